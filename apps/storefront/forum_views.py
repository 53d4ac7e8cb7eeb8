"""The forum's public pages: categories, topics with their replies, the forms to post, "my
topics", members' and tags' pages, the forum's search, feeds, and the unsubscribe link.

Listings, counters, tag and member pages, search and feeds read the index's projections
(``ForumTopicListing``, ``ForumCategoryStats``); a topic's page, its replies and "my topics"
read the forum's selectors, which decide who sees what (pending and hidden posts: their
author and the moderators). Every write is one call of ``apps.forum.services``, and the
forum's errors become a page here, in one place (``_refused`` and the forms' handlers): bad
input shows the form again with what was typed (400, 413 for a body too large), a closed
topic 409, a refusal 403, anything missing the themed 404. Each page runs a fixed number of
queries whatever the number of topics and replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, pgettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.core.errors import Conflict, NotFound, PermissionDenied, PlatformError, RateLimited
from apps.core.locale import LOCALE_PARAM
from apps.core.rate_limits import rate_limit
from apps.forum import selectors as forum
from apps.forum import services, view_counts
from apps.forum.errors import BodyTooLarge, ForumInvalid, NotAllowed, TopicClosed
from apps.forum.flags import mentions_active
from apps.forum.models import (
    BODY_MAX,
    ForumCategory,
    Reply,
    Review,
    Topic,
    TopicStatus,
    WhoMayStart,
)
from apps.index import selectors as index
from apps.index.text import author_display_name, author_in_locale, text_of
from apps.pages.delivery import ReaderLocale, reader_locale

from .account_forms import add_errors
from .blog_views import not_found_as_404
from .forum_forms import FlagForm, ReplyEditForm, ReplyForm, TopicForm, tag_choices
from .rate_limits import too_many_page

TOPICS_PER_PAGE = 20
REPLIES_PER_PAGE = 20
LATEST_TOPICS = 10
FEED_ITEMS = 20
SUBSCRIPTIONS_SHOWN = 100
QUOTE_WORDS = 40
POST_GROUP = "forum_post_user"
FLAG_GROUP = "forum_flag_user"


# -- links ----------------------------------------------------------------------------------


def _link(path: str, locale: ReaderLocale, **params: Any) -> str:
    """``path`` with ``params`` (None left out) and the reader's locale (``?lang=``)."""
    values = {name: str(value) for name, value in params.items() if value is not None}
    if locale.current != locale.default:
        values[LOCALE_PARAM] = locale.current
    return f"{path}?{urlencode(values)}" if values else path


def topic_url(topic_id: int, slug: str, locale: ReaderLocale, page: int = 1) -> str:
    path = reverse("forum:topic", args=[topic_id, slug or "topic"])
    return _link(path, locale, page=page if page > 1 else None)


def permalink(reply_id: int, locale: ReaderLocale) -> str:
    return _link(reverse("forum:reply_permalink", args=[reply_id]), locale)


def _member_url(handle: str, locale: ReaderLocale) -> str:
    return _link(reverse("forum:member", args=[handle]), locale) if handle else ""


def _category_url(category: ForumCategory, locale: ReaderLocale) -> str:
    return _link(reverse("forum:category", args=[category.slug]), locale)


def _tag_url(slug: str, locale: ReaderLocale) -> str:
    return _link(reverse("forum:tag", args=[slug]), locale)


def _page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    params.pop("quote", None)
    return f"?{params.urlencode()}"


def _pagination(request: HttpRequest, page) -> dict[str, Any]:
    return {
        "page": page,
        "previous_url": _page_url(request, page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": _page_url(request, page.next_page_number()) if page.has_next() else "",
    }


def _handle(user) -> str:
    if user is None:
        return ""
    try:
        return user.forum_member.handle
    except ObjectDoesNotExist:
        return ""


def _signed_in(request: HttpRequest):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# -- rendering and refusals ----------------------------------------------------------------------


def _respond(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    private: bool = False,
) -> HttpResponse:
    """A forum page in the reader's locale; ``private`` ones (forms, a member's own page) are
    never stored by a cache."""
    locale = reader_locale(request)
    response = render(
        request,
        template,
        {"locale": locale, "lang_query": locale.query, **context},
        status=status,
    )
    if private or _signed_in(request) is not None:
        add_never_cache_headers(response)
    return response


def _refused(request: HttpRequest, error: PlatformError, *, back_url: str = "") -> HttpResponse:
    """A service's refusal as a page: 404 (themed) for what is missing, else its message with
    403 (not allowed), 409 (closed topic, already done) or 400."""
    if isinstance(error, NotFound):
        raise Http404(str(error.detail))
    if isinstance(error, PermissionDenied):
        status, heading = 403, gettext("You cannot do this")
    elif isinstance(error, Conflict):
        status, heading = 409, gettext("This cannot be done now")
    else:
        status, heading = 400, gettext("This cannot be done")
    context = {
        "status": status,
        "heading": heading,
        "message": str(error.detail),
        "back_url": back_url or _link(reverse("forum:index"), reader_locale(request)),
    }
    return _respond(request, "forum/refused.html", context, status=status, private=True)


def _form_status(error: ForumInvalid) -> int:
    return 413 if isinstance(error, BodyTooLarge) else 400


def _preview(form, body: str, *, mentions: bool) -> tuple[str, int]:
    """A body rendered for its preview (nothing is written), with its mentions linked if they
    count, and the page's status; a body over the size limit is not rendered: the form says so
    (413)."""
    text = body.strip()
    if len(text) > BODY_MAX:
        form.add_error(
            "body",
            gettext("At most %(count)d characters (this has %(length)d).")
            % {"count": BODY_MAX, "length": len(text)},
        )
        return "", 413
    return (services.render_post(text, mentions=mentions) if text else ""), 200


def _to_login(request: HttpRequest, next_url: str) -> HttpResponse:
    """The storefront's login, coming back to ``next_url`` (a page of this site)."""
    login = _link(reverse("account:login"), reader_locale(request))
    return redirect_to_login(next_url, login_url=login)


def _limited(request: HttpRequest, group: str, user) -> HttpResponse | None:
    """Count one write of ``user`` against ``group``: the 429 page when over the limit."""
    try:
        rate_limit(request, (group, str(user.pk)))
    except RateLimited as limited:
        return too_many_page(request, limited)
    return None


def _paginate(request: HttpRequest, rows, per_page: int):
    paginator = Paginator(rows, per_page)
    number = request.GET.get("page") or 1
    try:
        return paginator.page(number)
    except (EmptyPage, PageNotAnInteger):
        raise Http404("no such page") from None


# -- listings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryCard:
    category: ForumCategory
    name: str
    description: str
    url: str
    stats: Any  # ForumCategoryStats or None: no public topic yet
    last_url: str
    children: list[CategoryCard]


def _category_card(
    category: ForumCategory,
    stats: dict[int, Any],
    locale: ReaderLocale,
    children: list[CategoryCard] | None = None,
) -> CategoryCard:
    counters = stats.get(category.pk)
    last_url = ""
    if counters is not None and counters.last_topic_id:
        last_url = topic_url(counters.last_topic_id, counters.last_topic_slug, locale)
    return CategoryCard(
        category=category,
        name=category.name_in(locale.current),
        description=category.description_in(locale.current),
        url=_category_url(category, locale),
        stats=counters,
        last_url=last_url,
        children=children or [],
    )


def _topic_lines(
    rows: list,
    locale: ReaderLocale,
    *,
    categories: dict[int, ForumCategory] | None = None,
) -> list[dict[str, Any]]:
    """The listing's rows as lines of a topic list, with their views (one query)."""
    views = forum.topic_views(row.topic_id for row in rows)
    lines = []
    for row in rows:
        category = (categories or {}).get(row.category_id)
        lines.append(
            {
                "row": row,
                "url": topic_url(row.topic_id, row.slug, locale),
                "views": views.get(row.topic_id, 0),
                "author_url": _member_url(row.author_handle, locale),
                "last_url": permalink(row.last_reply_id, locale)
                if row.last_reply_id
                else topic_url(row.topic_id, row.slug, locale),
                "tags": [
                    {"name": name, "url": _tag_url(slug, locale)}
                    for slug, name in zip(row.tag_slugs, row.tag_names, strict=False)
                ],
                "category": {
                    "name": category.name_in(locale.current),
                    "url": _category_url(category, locale),
                    "colour": category.colour,
                    "icon": category.icon,
                }
                if category is not None
                else None,
            }
        )
    return lines


def _categories_by_id() -> dict[int, ForumCategory]:
    return {category.pk: category for category in forum.categories()}


@require_safe
def forum_index(request: HttpRequest) -> HttpResponse:
    """The categories (top level with their subcategories) and their counters; the topics
    most recently active. Three queries."""
    locale = reader_locale(request)
    categories = list(forum.categories())
    stats = index.forum_category_stats([category.pk for category in categories])
    children: dict[int, list[CategoryCard]] = {}
    for category in categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(
                _category_card(category, stats, locale)
            )
    cards = [
        _category_card(category, stats, locale, children.get(category.pk))
        for category in categories
        if category.parent_id is None
    ]
    by_id = {category.pk: category for category in categories}
    latest = index.forum_latest(limit=LATEST_TOPICS)
    context = {
        "cards": cards,
        "latest": _topic_lines(latest, locale, categories=by_id),
    }
    return _respond(request, "forum/index.html", context)


def _may_start(category: ForumCategory, user) -> bool:
    return user is not None and (category.who_may_start == WhoMayStart.CUSTOMERS or user.is_staff)


@require_safe
@not_found_as_404
def category_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A category: its subcategories, then its topics, pinned first, then by last activity."""
    locale = reader_locale(request)
    category = forum.category_by_slug(slug)
    if category is None:
        raise Http404("no such category")
    children = list(forum.category_children(category.pk))
    stats = index.forum_category_stats([category.pk, *(child.pk for child in children)])
    page = index.forum_topics(
        category_ids=[category.pk], pinned_first=True, page=request.GET.get("page"),
        per_page=TOPICS_PER_PAGE,
    )  # fmt: skip
    user = _signed_in(request)
    new_url = _link(reverse("forum:topic_new", args=[category.slug]), locale)
    context = {
        "card": _category_card(category, stats, locale),
        "parent": _category_card(category.parent, {}, locale) if category.parent else None,
        "children": [_category_card(child, stats, locale) for child in children],
        "lines": _topic_lines(page.object_list, locale),
        "may_start": _may_start(category, user),
        "staff_only": category.who_may_start == WhoMayStart.STAFF,
        "new_url": new_url,
        "login_url": _link(reverse("account:login"), locale, next=new_url) if user is None else "",
        "feed_url": _link(reverse("forum:feed_rss", args=[category.slug]), locale),
        "atom_url": _link(reverse("forum:feed_atom", args=[category.slug]), locale),
        **_pagination(request, page),
    }
    return _respond(request, "forum/category.html", context)


@require_safe
@not_found_as_404
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    locale = reader_locale(request)
    tag = forum.tag_by_slug(slug)
    if tag is None:
        raise Http404("no such tag")
    page = index.forum_topics(tag=tag.slug, page=request.GET.get("page"), per_page=TOPICS_PER_PAGE)
    context = {
        "heading": tag.name_in(locale.current),
        "kicker": gettext("Tag"),
        "lines": _topic_lines(page.object_list, locale, categories=_categories_by_id()),
        **_pagination(request, page),
    }
    return _respond(request, "forum/list.html", context)


@require_safe
@not_found_as_404
def member_page(request: HttpRequest, handle: str) -> HttpResponse:
    """A member's public page: their name (never their email) and their public topics."""
    locale = reader_locale(request)
    member = forum.member_by_handle(handle)
    if member is None or not member.user.is_active:
        raise Http404("no such member")
    page = index.forum_topics(
        author_id=member.user_id, page=request.GET.get("page"), per_page=TOPICS_PER_PAGE
    )
    context = {
        "heading": author_display_name(member.user),
        "kicker": gettext("Member"),
        "handle": member.handle,
        "since": member.created_at,
        "lines": _topic_lines(page.object_list, locale, categories=_categories_by_id()),
        **_pagination(request, page),
    }
    return _respond(request, "forum/list.html", context)


@require_safe
@not_found_as_404
def search(request: HttpRequest) -> HttpResponse:
    """Full-text search of the public topics (titles, bodies and replies), each in its own
    language; a query with nothing to search for gets the form and a hint, never an error."""
    locale = reader_locale(request)
    asked = (request.GET.get("q") or "").strip()
    query = index.clean_query(asked)
    context: dict[str, Any] = {"query": query, "asked": bool(asked), "results": None}
    if query:
        page = index.forum_search(
            query=query, page=request.GET.get("page"), per_page=TOPICS_PER_PAGE
        )
        categories = _categories_by_id() if page.object_list else {}
        context.update(
            results=[
                {
                    "hit": hit,
                    "url": topic_url(hit.topic_id, hit.slug, locale),
                    "author_url": _member_url(hit.author_handle, locale),
                    "category": categories.get(hit.category_id),
                    "category_name": categories[hit.category_id].name_in(locale.current)
                    if hit.category_id in categories
                    else "",
                }
                for hit in page.object_list
            ],
            total=page.paginator.count,
            **_pagination(request, page),
        )
    response = _respond(request, "forum/search.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def my_topics(request: HttpRequest) -> HttpResponse:
    """The signed-in member's topics (pending ones too: from the forum, not the listing) with
    the listing's counters for the public ones, and their subscriptions."""
    user = _signed_in(request)
    if user is None:
        return _to_login(request, request.get_full_path())
    locale = reader_locale(request)
    # Titles and states: the bodies stay in the database.
    mine = forum.authored_topics(user, user).defer("body", "body_html")
    page = _paginate(request, mine, TOPICS_PER_PAGE)
    topics = list(page.object_list)
    counters = index.forum_topics_by_ids([topic.pk for topic in topics]) if topics else {}
    subscriptions = list(
        forum.subscriptions_of(user).defer("topic__body", "topic__body_html")[:SUBSCRIPTIONS_SHOWN]
    )
    context = {
        "topics": [
            {
                "topic": topic,
                "url": topic_url(topic.pk, topic.slug, locale),
                "category_name": topic.category.name_in(locale.current),
                "category_url": _category_url(topic.category, locale),
                "counters": counters.get(topic.pk),
            }
            for topic in topics
        ],
        "subscriptions": [
            {
                "topic": subscription.topic,
                "url": topic_url(subscription.topic_id, subscription.topic.slug, locale),
                "category_name": subscription.topic.category.name_in(locale.current),
            }
            for subscription in subscriptions
        ],
        "handle_url": _member_url(_handle(user), locale),
        **_pagination(request, page),
    }
    return _respond(request, "forum/my.html", context, private=True)


# -- a topic's page ------------------------------------------------------------------------------


def _visible_topic(request: HttpRequest, topic_id: int) -> Topic:
    topic = forum.topic_for_page(topic_id, _signed_in(request))
    if topic is None:
        raise Http404("no such topic")
    return topic


@require_safe
def topic_page(request: HttpRequest, topic_id: int, slug: str | None = None) -> HttpResponse:
    topic = _visible_topic(request, topic_id)
    if slug != topic.slug:
        # One address per topic: the id decides, the slug follows the title.
        query = request.GET.urlencode()
        path = reverse("forum:topic", args=[topic.pk, topic.slug])
        return HttpResponseRedirect(f"{path}?{query}" if query else path, status=301)
    if request.method == "GET":
        view_counts.record_view(topic.pk)
    quote = request.GET.get("quote", "")
    form = ReplyForm(initial={"quoted_reply_id": int(quote)} if quote.isdigit() else {})
    return _topic_page(request, topic, form=form)


def _reply_refusal(topic: Topic, user) -> str:
    """Why the page offers ``user`` no reply form ("": it does), as the services would say."""
    if user is None or forum.is_moderator(user):
        return ""
    if topic.locked:
        return gettext("This topic is locked: it takes no new replies.")
    if topic.status == TopicStatus.CLOSED:
        return gettext("This topic is closed: it takes no new replies.")
    if topic.status == TopicStatus.ARCHIVED:
        return gettext("This topic is archived: it takes no new replies.")
    return ""


def _shown(post_status: str) -> str:
    """The badge of a post the public does not see ("" for an approved one)."""
    return {
        Review.PENDING: gettext("Awaiting approval: only its author and the moderators see it"),
        Review.HIDDEN: gettext("Hidden by a moderator: only its author and the moderators see it"),
        Review.REJECTED: gettext("Rejected by a moderator"),
    }.get(post_status, "")


def _quote(reply: Reply, user, locale: ReaderLocale) -> dict[str, Any] | None:
    quoted = reply.quoted
    if quoted is None:
        return None
    visible = (
        quoted.status == Review.APPROVED
        or forum.is_moderator(user)
        or (user is not None and quoted.author_id == user.pk)
    )
    words = text_of(quoted.body_html).split()
    return {
        "visible": visible,
        "author_name": author_display_name(quoted.author),
        "text": " ".join(words[:QUOTE_WORDS]) + ("…" if len(words) > QUOTE_WORDS else ""),
        "url": permalink(quoted.pk, locale),
    }


def _topic_page(
    request: HttpRequest,
    topic: Topic,
    *,
    form: ReplyForm,
    preview_html: str = "",
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    """The topic and a page of its replies (the ones the reader may see), with the reply form.

    Queries: the topic (before this), its tags, the replies' count and page; a signed-in
    member's subscription.
    """
    locale = reader_locale(request)
    user = _signed_in(request)
    moderator = forum.is_moderator(user)
    page = _paginate(request, forum.replies(topic, user), REPLIES_PER_PAGE)
    is_author = user is not None and topic.author_id == user.pk
    may_reply = user is not None and not _reply_refusal(topic, user)
    here = topic_url(topic.pk, topic.slug, locale, page.number)
    replies = []
    for reply in page.object_list:
        mine = user is not None and reply.author_id == user.pk
        approved = reply.status == Review.APPROVED
        replies.append(
            {
                "reply": reply,
                "author_name": author_display_name(reply.author),
                "author_url": _member_url(_handle(reply.author), locale),
                "unseen": _shown(reply.status),
                "is_solution": reply.pk == topic.solution_id,
                "quote": _quote(reply, user, locale),
                "permalink": permalink(reply.pk, locale),
                "quote_url": f"{_page_url(request, page.number)}&quote={reply.pk}#reply-form"
                if may_reply and approved
                else "",
                "edit_url": _link(reverse("forum:reply_edit", args=[reply.pk]), locale)
                if forum.may_edit(reply, user)
                else "",
                "report_url": _link(reverse("forum:reply_report", args=[reply.pk]), locale)
                if user is not None and approved and not mine
                else "",
                "may_solve": (is_author or moderator) and approved,
            }
        )
    quoting = form["quoted_reply_id"].value()
    quoted = next((r for r in replies if str(r["reply"].pk) == str(quoting)), None)
    tags = forum.topic_tags(topic)
    context = {
        "topic": topic,
        "category_card": _category_card(topic.category, {}, locale),
        "parent_card": _category_card(topic.category.parent, {}, locale)
        if topic.category.parent
        else None,
        "author_name": author_display_name(topic.author),
        "author_url": _member_url(_handle(topic.author), locale),
        "topic_unseen": _shown(topic.review),
        "tags": [{"name": tag.name_in(locale.current), "url": _tag_url(tag.slug, locale)}
                 for tag in tags],
        "replies": replies,
        "solution_url": permalink(topic.solution_id, locale) if topic.solution_id else "",
        "edit_url": _link(reverse("forum:topic_edit", args=[topic.pk]), locale)
        if forum.may_edit(topic, user)
        else "",
        "subscribed": forum.subscribed(topic.pk, user) if user is not None else False,
        "subscribe_url": _link(reverse("forum:topic_subscribe", args=[topic.pk]), locale),
        "solve_url": _link(reverse("forum:topic_solve", args=[topic.pk]), locale),
        "reply_url": _link(
            reverse("forum:reply", args=[topic.pk]), locale,
            page=page.number if page.number > 1 else None,
        ),
        "login_url": _link(reverse("account:login"), locale, next=here),
        "closed_message": refusal or _reply_refusal(topic, user),
        "may_reply": may_reply and not refusal,
        "form": form,
        "quoting": quoted,
        "quoting_other": bool(quoting) and quoted is None,
        "preview_html": preview_html,
        "here": here,
        **_pagination(request, page),
    }  # fmt: skip
    return _respond(request, "forum/topic.html", context, status=status)


@require_safe
def reply_permalink(request: HttpRequest, reply_id: int) -> HttpResponse:
    """A reply's lasting address: its topic's page that shows it, at the reply."""
    user = _signed_in(request)
    reply = forum.reply_get(reply_id, user)
    if reply is None:
        raise Http404("no such reply")
    before = forum.reply_position(reply, user)
    locale = reader_locale(request)
    url = topic_url(reply.topic_id, reply.topic.slug, locale, before // REPLIES_PER_PAGE + 1)
    return HttpResponseRedirect(f"{url}#reply-{reply.pk}")


# -- writing: replies --------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def reply_post(request: HttpRequest, topic_id: int) -> HttpResponse:
    """A reply, or its preview (the page again with the rendered body, nothing written)."""
    topic = _visible_topic(request, topic_id)
    locale = reader_locale(request)
    back = topic_url(topic.pk, topic.slug, locale)
    user = _signed_in(request)
    if request.method != "POST":
        return HttpResponseRedirect(back)
    if user is None:
        return _to_login(request, back)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _topic_page(request, topic, form=form, status=400)
    body = form.cleaned_data["body"]
    mentions = mentions_active(request)
    if "preview" in request.POST:
        preview, status = _preview(form, body, mentions=mentions)
        return _topic_page(request, topic, form=form, preview_html=preview, status=status)
    limited = _limited(request, POST_GROUP, user)
    if limited is not None:
        return limited
    try:
        reply = services.reply_post(
            topic_id=topic.pk, body=body, actor=user,
            quoted_reply_id=form.cleaned_data["quoted_reply_id"], mentions=mentions,
        )  # fmt: skip
    except ForumInvalid as invalid:
        add_errors(form, invalid.errors)
        return _topic_page(request, topic, form=form, status=_form_status(invalid))
    except TopicClosed as closed:
        return _topic_page(request, topic, form=form, refusal=str(closed.detail), status=409)
    except PlatformError as error:
        return _refused(request, error, back_url=back)
    if reply.status == Review.PENDING:
        messages.info(
            request,
            gettext("Your reply waits for a moderator's approval; until then only you see it."),
        )
    return HttpResponseRedirect(permalink(reply.pk, locale))


def _visible_reply(request: HttpRequest, reply_id: int) -> Reply:
    reply = forum.reply_get(reply_id, _signed_in(request))
    if reply is None:
        raise Http404("no such reply")
    return reply


@require_http_methods(["GET", "HEAD", "POST"])
def reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    """The author's edit of their reply within the edit window (a moderator's at any time)."""
    reply = _visible_reply(request, reply_id)
    locale = reader_locale(request)
    user = _signed_in(request)
    back = permalink(reply.pk, locale)
    if user is None:
        return _to_login(request, request.get_full_path())
    if not forum.may_edit(reply, user):
        return _refused(request, _edit_refusal(reply, user), back_url=back)
    context: dict[str, Any] = {
        "heading": gettext("Edit your reply"),
        "topic": reply.topic,
        "topic_url": topic_url(reply.topic_id, reply.topic.slug, locale),
        "action_url": request.get_full_path(),
        "back_url": back,
    }
    if request.method != "POST":
        form = ReplyEditForm(initial={"body": reply.body})
        return _respond(request, "forum/post_form.html", {**context, "form": form}, private=True)
    form = ReplyEditForm(request.POST)
    form.is_valid()
    body = form.cleaned_data.get("body", "")
    if "preview" in request.POST:
        preview, status = _preview(form, body, mentions=reply.mentions)
        context.update(form=form, preview_html=preview)
        return _respond(request, "forum/post_form.html", context, status=status, private=True)
    limited = _limited(request, POST_GROUP, user)
    if limited is not None:
        return limited
    try:
        services.reply_edit(reply_id=reply.pk, body=body, actor=user)
    except ForumInvalid as invalid:
        add_errors(form, invalid.errors)
        return _respond(
            request, "forum/post_form.html", {**context, "form": form},
            status=_form_status(invalid), private=True,
        )  # fmt: skip
    except PlatformError as error:
        return _refused(request, error, back_url=back)
    return HttpResponseRedirect(back)


def _edit_refusal(post: Topic | Reply, user) -> PlatformError:
    if post.author_id != user.pk:
        return NotAllowed(gettext("Only its author or a moderator edits this post."))
    minutes = forum.edit_window_seconds() // 60
    return NotAllowed(
        gettext("Posts can be edited for %(minutes)d minutes after posting; this time is over.")
        % {"minutes": minutes}
    )


@require_http_methods(["GET", "HEAD", "POST"])
def reply_report(request: HttpRequest, reply_id: int) -> HttpResponse:
    """A member reports a reply to the moderators (a reason, and a note if they like)."""
    reply = _visible_reply(request, reply_id)
    locale = reader_locale(request)
    user = _signed_in(request)
    back = permalink(reply.pk, locale)
    if user is None:
        return _to_login(request, request.get_full_path())
    context: dict[str, Any] = {
        "reply": reply,
        "author_name": author_display_name(reply.author),
        "excerpt": " ".join(text_of(reply.body_html).split()[:QUOTE_WORDS]),
        "topic_url": topic_url(reply.topic_id, reply.topic.slug, locale),
        "action_url": request.get_full_path(),
        "back_url": back,
    }
    if request.method != "POST":
        return _respond(request, "forum/report.html", {**context, "form": FlagForm()}, private=True)
    form = FlagForm(request.POST)
    if not form.is_valid():
        return _respond(
            request, "forum/report.html", {**context, "form": form}, status=400, private=True
        )
    limited = _limited(request, FLAG_GROUP, user)
    if limited is not None:
        return limited
    try:
        services.reply_flag(
            reply_id=reply.pk, reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"], actor=user,
        )  # fmt: skip
    except ForumInvalid as invalid:
        add_errors(form, invalid.errors)
        return _respond(
            request, "forum/report.html", {**context, "form": form}, status=400, private=True
        )
    except PlatformError as error:
        return _refused(request, error, back_url=back)
    messages.success(request, gettext("Thank you: the moderators will look at this reply."))
    return HttpResponseRedirect(back)


# -- writing: topics ------------------------------------------------------------------------------


def _topic_form_page(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return _respond(request, "forum/topic_form.html", context, status=status, private=True)


def _take_topic_form(request, context, *, tags, user, back_url: str, mentions: bool, write):
    """A POST of the topic form (new or edited): the form again when it is wrong, a preview
    that writes nothing (its mentions linked if ``mentions``), the rate limit, then
    ``write(form, data)`` through the services.
    What ``write`` returned, or the response to send instead (the form with the service's
    messages, the 429 page, the refusal page)."""
    form = TopicForm(request.POST, tags=tags)
    if not form.is_valid():
        return _topic_form_page(request, {**context, "form": form}, status=400)
    data = form.cleaned_data
    if "preview" in request.POST:
        preview, status = _preview(form, data["body"], mentions=mentions)
        return _topic_form_page(
            request, {**context, "form": form, "preview_html": preview}, status=status
        )
    limited = _limited(request, POST_GROUP, user)
    if limited is not None:
        return limited
    try:
        return write(form, data)
    except ForumInvalid as invalid:
        add_errors(form, invalid.errors)
        return _topic_form_page(request, {**context, "form": form}, status=_form_status(invalid))
    except PlatformError as error:
        return _refused(request, error, back_url=back_url)


@require_http_methods(["GET", "HEAD", "POST"])
def topic_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a topic in a category: title, body (with a preview) and tags."""
    category = forum.category_by_slug(slug)
    if category is None:
        raise Http404("no such category")
    locale = reader_locale(request)
    user = _signed_in(request)
    if user is None:
        return _to_login(request, request.get_full_path())
    card = _category_card(category, {}, locale)
    if not _may_start(category, user):
        refusal = NotAllowed(gettext("Only staff start topics in this category."))
        return _refused(request, refusal, back_url=card.url)
    tags = tag_choices(locale.current)
    context: dict[str, Any] = {
        "heading": gettext("New topic in %(category)s") % {"category": card.name},
        "card": card,
        "moderated": category.moderated,
        "action_url": request.get_full_path(),
        "back_url": card.url,
    }
    if request.method != "POST":
        return _topic_form_page(request, {**context, "form": TopicForm(tags=tags)})
    mentions = mentions_active(request)
    topic = _take_topic_form(
        request, context, tags=tags, user=user, back_url=card.url, mentions=mentions,
        write=lambda form, data: services.topic_start(
            category_id=category.pk, title=data["title"], body=data["body"], actor=user,
            locale=locale.current, tag_slugs=data.get("tags") or (), mentions=mentions,
        ),
    )  # fmt: skip
    if isinstance(topic, HttpResponse):
        return topic
    if topic.review == Review.PENDING:
        messages.info(
            request,
            gettext("Your topic waits for a moderator's approval; until then only you see it."),
        )
    return HttpResponseRedirect(topic_url(topic.pk, topic.slug, locale))


@require_http_methods(["GET", "HEAD", "POST"])
def topic_edit(request: HttpRequest, topic_id: int) -> HttpResponse:
    """The author's edit of their topic within the edit window (a moderator's at any time)."""
    topic = _visible_topic(request, topic_id)
    locale = reader_locale(request)
    user = _signed_in(request)
    back = topic_url(topic.pk, topic.slug, locale)
    if user is None:
        return _to_login(request, request.get_full_path())
    if not forum.may_edit(topic, user):
        return _refused(request, _edit_refusal(topic, user), back_url=back)
    tags = tag_choices(locale.current)
    context: dict[str, Any] = {
        "heading": gettext("Edit your topic"),
        "card": _category_card(topic.category, {}, locale),
        "action_url": request.get_full_path(),
        "back_url": back,
        "editing": True,
    }
    if request.method != "POST":
        initial = {
            "title": topic.title,
            "body": topic.body,
            "tags": [tag.slug for tag in forum.topic_tags(topic)],
        }
        return _topic_form_page(request, {**context, "form": TopicForm(initial=initial, tags=tags)})
    edited = _take_topic_form(
        request, context, tags=tags, user=user, back_url=back, mentions=topic.mentions,
        write=lambda form, data: services.topic_edit(
            topic_id=topic.pk, title=data["title"], body=data["body"], actor=user,
            tag_slugs=data.get("tags") if "tags" in form.fields else None,
        ),
    )  # fmt: skip
    if isinstance(edited, HttpResponse):
        return edited
    return HttpResponseRedirect(topic_url(edited.pk, edited.slug, locale))


@require_POST
def topic_solve(request: HttpRequest, topic_id: int) -> HttpResponse:
    """The topic's author marks a reply as the answer (an empty ``reply_id``: no answer)."""
    topic = _visible_topic(request, topic_id)
    locale = reader_locale(request)
    back = topic_url(topic.pk, topic.slug, locale)
    user = _signed_in(request)
    if user is None:
        return _to_login(request, back)
    chosen = request.POST.get("reply_id", "")
    if chosen and not chosen.isdigit():
        raise Http404("no such reply")
    try:
        services.topic_mark_solved(
            topic_id=topic.pk, reply_id=int(chosen) if chosen else None, actor=user
        )
    except PlatformError as error:
        return _refused(request, error, back_url=back)
    return HttpResponseRedirect(f"{permalink(int(chosen), locale)}" if chosen else back)


def _local_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and safe else fallback


@require_POST
def topic_subscribe(request: HttpRequest, topic_id: int) -> HttpResponse:
    """Subscribe to a topic's replies (``subscribe=1``) or stop (``subscribe=0``)."""
    topic = _visible_topic(request, topic_id)
    locale = reader_locale(request)
    back = _local_next(request, topic_url(topic.pk, topic.slug, locale))
    user = _signed_in(request)
    if user is None:
        return _to_login(request, topic_url(topic.pk, topic.slug, locale))
    if request.POST.get("subscribe") == "1":
        services.topic_subscribe(topic_id=topic.pk, actor=user)
        messages.success(request, gettext("You will get an email for each new reply."))
    else:
        services.topic_unsubscribe(topic_id=topic.pk, user_id=user.pk)
        messages.success(request, gettext("You will no longer get emails about this topic."))
    return HttpResponseRedirect(back)


# -- unsubscribing from an email's link --------------------------------------------------------


# The signed token is the credential (it names one member and one topic of this tenant), so
# the POST needs no CSRF token: a mail client's one-click unsubscribe (RFC 8058) posts without
# one, and a forged request would need the token itself. A GET only asks, because mail
# scanners open links.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = forum.unsubscribe_target(token)
    if target is None:
        raise Http404("no such subscription")
    user_id, topic_id = target
    topic = forum.topic_get(topic_id)
    locale = reader_locale(request)
    context: dict[str, Any] = {
        "topic": topic,
        "topic_url": topic_url(topic.pk, topic.slug, locale) if topic else "",
        "action_url": request.get_full_path(),
        "done": False,
    }
    if request.method == "POST":
        services.topic_unsubscribe(topic_id=topic_id, user_id=user_id)
        context["done"] = True
    response = _respond(request, "forum/unsubscribe.html", context, private=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# -- sitemap.xml ---------------------------------------------------------------------------------


def forum_sitemap_entries(locale: ReaderLocale, localized, entry) -> list[dict[str, Any]]:
    """The forum's index and categories in every locale, its public topics in their own
    (three queries; nothing while the forum has no category). ``localized(url, code)`` and
    ``entry(urls, lastmod)`` are the sitemap's."""
    categories = list(forum.categories())
    if not categories:
        return []
    stats = index.forum_category_stats([category.pk for category in categories])
    topics = index.forum_sitemap_rows()
    newest = max((row[2] for row in topics), default=None)
    every = locale.available
    entries = entry({code: localized(reverse("forum:index"), code) for code in every}, newest)
    for category in categories:
        counters = stats.get(category.pk)
        url = reverse("forum:category", args=[category.slug])
        lastmod = counters.last_activity_at if counters is not None else None
        entries += entry({code: localized(url, code) for code in every}, lastmod)
    for topic_id, slug, last_activity_at in topics:
        url = reverse("forum:topic", args=[topic_id, slug or "topic"])
        entries += entry({locale.default: url}, last_activity_at)
    return entries


# -- feeds -------------------------------------------------------------------------------------


@dataclass
class CategoryFeedSource:
    site: str
    category: ForumCategory
    name: str
    locale: ReaderLocale
    items: list


class CategoryTopicsFeed(Feed):
    """RSS 2.0 of a category's newest topics; authors by their public name."""

    feed_type = Rss201rev2Feed
    url_name = "forum:feed_rss"

    def get_object(self, request: HttpRequest, slug: str) -> CategoryFeedSource:
        category = forum.category_by_slug(slug)
        if category is None:
            raise Http404("no such category")
        locale = reader_locale(request)
        items = index.forum_newest(category_id=category.pk, limit=FEED_ITEMS)
        for item in items:
            item.url = topic_url(item.topic_id, item.slug, locale)
            item.guid = request.build_absolute_uri(
                reverse("forum:topic_bare", args=[item.topic_id])
            )
        return CategoryFeedSource(
            site=request.tenant.name,
            category=category,
            name=category.name_in(locale.current),
            locale=locale,
            items=items,
        )

    def get_feed(self, obj: CategoryFeedSource, request: HttpRequest):
        feed = super().get_feed(obj, request)
        feed.feed["language"] = obj.locale.current
        return feed

    def title(self, obj: CategoryFeedSource) -> str:
        return pgettext("feed title", "%(site)s forum: %(category)s") % {
            "site": obj.site,
            "category": obj.name,
        }

    def description(self, obj: CategoryFeedSource) -> str:
        return obj.category.description_in(obj.locale.current) or gettext(
            "The newest topics of %(category)s"
        ) % {"category": obj.name}

    def subtitle(self, obj: CategoryFeedSource) -> str:
        return self.description(obj)

    def link(self, obj: CategoryFeedSource) -> str:
        return _category_url(obj.category, obj.locale)

    def feed_url(self, obj: CategoryFeedSource) -> str:
        return _link(reverse(self.url_name, args=[obj.category.slug]), obj.locale)

    def items(self, obj: CategoryFeedSource) -> list:
        return obj.items

    def item_title(self, item) -> str:
        return item.title

    def item_description(self, item) -> str:
        return item.excerpt

    def item_link(self, item) -> str:
        return item.url

    def item_guid(self, item) -> str:
        return item.guid

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.last_activity_at

    def item_author_name(self, item) -> str | None:
        return author_in_locale(item.author_name) or None

    def item_categories(self, item) -> list[str]:
        return list(item.tag_names)


class CategoryTopicsAtomFeed(CategoryTopicsFeed):
    """The same feed in Atom 1.0."""

    feed_type = Atom1Feed
    url_name = "forum:feed_atom"
