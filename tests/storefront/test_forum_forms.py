"""The forum's forms in the storefront: replying (preview, quote, closed topics, bad input),
starting and editing topics, reporting, marking the answer, subscriptions and the email's
unsubscribe link; sign-in redirects, rate limits per member, CSRF, escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.events.models import OutboxEvent
from apps.forum import selectors, services
from apps.forum.models import BODY_MAX, Flag, Reply, Review, Subscription, Topic
from tests.conftest import tenant_client

from .forum_support import category, member, moderator, reply, signed_in, text
from .forum_support import topic as start

pytestmark = pytest.mark.usefixtures("acme_site", "globex_site")


@pytest.fixture
def help_desk(acme_site):
    return category(name="Help")


@pytest.fixture
def alice(acme_site):
    return member("Alice Example")


@pytest.fixture
def bob(acme_site):
    return member("Bob Example")


@pytest.fixture
def thread(help_desk, alice):
    return start(help_desk, alice, "Printer trouble", "It jams.")


def _replies(topic) -> list[str]:
    with schema_context("acme"):
        return list(Reply.objects.filter(topic=topic).values_list("body", flat=True))


def _events() -> int:
    return OutboxEvent.objects.filter(schema_name="acme").count()


def _reply_url(topic) -> str:
    return f"/forum/topic/{topic.pk}/reply/"


# -- replying --------------------------------------------------------------------------------


def test_a_signed_out_reader_is_sent_to_log_in_and_nothing_is_written(acme_client, thread):
    response = acme_client.post(_reply_url(thread), {"body": "Anonymous words"})
    assert response.status_code == 302
    assert response["Location"] == (f"/account/login/?next=/forum/t/{thread.pk}/printer-trouble/")
    assert _replies(thread) == []
    page = acme_client.get(f"/forum/t/{thread.pk}/printer-trouble/")
    assert "Log in to reply" in text(page) and 'name="body"' not in text(page)


def test_a_member_replies_and_lands_on_their_reply(thread, bob):
    client = signed_in(bob)
    response = client.post(_reply_url(thread), {"body": "Open the **tray**"})
    assert response.status_code == 302
    with schema_context("acme"):
        posted = Reply.objects.get(topic=thread)
    assert posted.body == "Open the **tray**" and posted.author_id == bob.pk
    assert response["Location"] == f"/forum/r/{posted.pk}/"
    landed = client.get(response["Location"])
    assert landed["Location"] == f"/forum/t/{thread.pk}/printer-trouble/#reply-{posted.pk}"
    assert "<strong>tray</strong>" in text(client.get(landed["Location"]))


def test_preview_shows_the_rendered_body_and_writes_nothing(thread, bob):
    client = signed_in(bob)
    before = _events()
    response = client.post(
        _reply_url(thread), {"body": "Try *this* <script>alert(1)</script>", "preview": "1"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing is posted yet" in html
    assert "<em>this</em>" in html and "<script>alert(1)" not in html
    assert "Try *this* &lt;script&gt;" in html  # what was typed, kept in the form
    assert _replies(thread) == [] and _events() == before


def test_quote_prefills_the_quoted_reply_and_the_reply_shows_it(thread, alice, bob):
    first = reply(thread, alice, "The tray is stuck.")
    client = signed_in(bob)
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/?quote={first.pk}"))
    assert f'name="quoted_reply_id" value="{first.pk}"' in page
    assert "Quoting Alice Example" in page
    client.post(_reply_url(thread), {"body": "Pull it gently", "quoted_reply_id": first.pk})
    with schema_context("acme"):
        assert Reply.objects.get(body="Pull it gently").quoted_id == first.pk
    shown = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert "Alice Example wrote:" in shown and "The tray is stuck." in shown


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("close", "This topic is closed: it takes no new replies."),
        ("archive", "This topic is archived: it takes no new replies."),
        ("lock", "This topic is locked: it takes no new replies."),
    ],
)
def test_a_closed_or_locked_topic_refuses_a_reply_with_409_and_says_why(
    thread, bob, action, message
):
    client = signed_in(bob)
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert 'name="body"' in page  # open: the form is there
    with schema_context("acme"):
        services.topic_moderate(topic_id=thread.pk, action=action, actor=moderator())
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert message in page and 'name="body"' not in page
    refused = client.post(_reply_url(thread), {"body": "Too late"})
    assert refused.status_code == 409
    # The service's own words (it names the state), and the page keeps what was typed.
    assert "it takes no new replies." in text(refused).split('id="reply-form"')[1]
    assert _replies(thread) == []


def test_bad_input_shows_the_form_again_with_the_message(thread, bob):
    client = signed_in(bob)
    empty = client.post(_reply_url(thread), {"body": "   "})
    assert empty.status_code == 400 and "This field is required." in text(empty)
    huge = "x" * (BODY_MAX + 1)
    too_large = client.post(_reply_url(thread), {"body": huge})
    assert too_large.status_code == 413
    assert f"At most {BODY_MAX} characters (this has {BODY_MAX + 1})." in text(too_large)
    assert huge in text(too_large)  # kept
    too_large_preview = client.post(_reply_url(thread), {"body": huge, "preview": "1"})
    assert too_large_preview.status_code == 413 and "Nothing is posted yet" not in text(
        too_large_preview
    )
    nul = client.post(_reply_url(thread), {"body": "a\x00b"})
    assert nul.status_code == 400 and "not allowed" in text(nul)
    stranger = client.post(_reply_url(thread), {"body": "Hi", "quoted_reply_id": "999999"})
    assert stranger.status_code == 400 and "No such reply in this topic." in text(stranger)
    garbage = client.post(_reply_url(thread), {"body": "Hi", "quoted_reply_id": "x'--"})
    assert garbage.status_code == 400
    assert _replies(thread) == []


def test_a_reply_in_a_moderated_category_waits_and_says_so(alice, bob):
    moderated = category(name="Introductions", moderated=True)
    with schema_context("acme"):
        hello = services.topic_start(
            category_id=moderated.pk, title="Hello", body="Hi", actor=moderator()
        )
    client = signed_in(bob)
    response = client.post(_reply_url(hello), {"body": "Welcome!"}, follow=True)
    html = text(response)
    assert "Your reply waits for a moderator's approval" in html
    assert "Welcome!" in html and "Awaiting approval" in html
    assert "Welcome!" not in text(signed_in(alice).get(f"/forum/t/{hello.pk}/hello/"))


def test_posting_is_rate_limited_per_member_with_the_429_page(thread, bob, clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "forum_post_user": "2/m"}
    client = signed_in(bob)
    for number in range(2):
        assert client.post(_reply_url(thread), {"body": f"Reply {number}"}).status_code == 302
    for _ in range(3):  # previews are not counted
        preview = client.post(_reply_url(thread), {"body": "Draft", "preview": "1"})
        assert preview.status_code == 200
    limited = client.post(_reply_url(thread), {"body": "One too many"})
    assert limited.status_code == 429
    wait = int(limited["Retry-After"])
    assert 1 <= wait <= 61
    assert "Too many attempts. Please try again in" in text(limited)
    assert _replies(thread) == ["Reply 0", "Reply 1"]
    # Per member: another one posts; a new topic counts against the same limit.
    assert signed_in(member("Carol")).post(_reply_url(thread), {"body": "Carol"}).status_code == 302
    new_topic = client.post("/forum/c/help/new/", {"title": "T", "body": "B"})
    assert new_topic.status_code == 429
    clock.now += wait
    assert client.post(_reply_url(thread), {"body": "Later"}).status_code == 302


def test_forms_are_csrf_protected(thread, bob):
    client = Client(HTTP_HOST="acme.localhost", enforce_csrf_checks=True)
    with schema_context("acme"):
        client.force_login(bob)
    assert client.post(_reply_url(thread), {"body": "Forged"}).status_code == 403
    assert _replies(thread) == []


def test_titles_and_bodies_are_escaped_and_sanitized(help_desk, alice, bob):
    topic = start(help_desk, alice, '<img src=x onerror="alert(1)">', "<script>alert(2)</script>ok")
    reply(topic, bob, '[click](javascript:alert(3)) <iframe src="//evil"></iframe>')
    html = tenant_client("acme").get(f"/forum/t/{topic.pk}/{topic.slug}/").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<script>alert(2)" not in html and "<iframe" not in html
    assert 'href="javascript:' not in html


# -- topics ----------------------------------------------------------------------------------


def test_starting_a_topic_with_tags_and_a_preview(help_desk, alice):
    with schema_context("acme"):
        content.tag_get_or_create(name="Printers")
        content.tag_get_or_create(name="Paper")
    assert tenant_client("acme").get("/forum/c/help/new/")["Location"] == (
        "/account/login/?next=/forum/c/help/new/"
    )
    client = signed_in(alice)
    form = text(client.get("/forum/c/help/new/"))
    assert 'type="checkbox" name="tags" value="printers"' in form
    before = _events()
    data = {"title": "Paper jam", "body": "It **jams**", "tags": ["printers", "paper"]}
    preview = client.post("/forum/c/help/new/", {**data, "preview": "1"})
    assert preview.status_code == 200 and "<strong>jams</strong>" in text(preview)
    assert 'value="Paper jam"' in text(preview) and _events() == before
    created = client.post("/forum/c/help/new/", data)
    with schema_context("acme"):
        topic = Topic.objects.get(title="Paper jam")
        assert sorted(selectors.topic_tags(topic), key=str) != []
        assert {tag.slug for tag in selectors.topic_tags(topic)} == {"printers", "paper"}
    assert created["Location"] == f"/forum/t/{topic.pk}/paper-jam/"
    assert topic.locale == "en"
    in_german = client.post("/forum/c/help/new/?lang=de", {"title": "Papierstau", "body": "Hilfe"})
    assert in_german.status_code == 302
    with schema_context("acme"):
        assert Topic.objects.get(title="Papierstau").locale == "de"


def test_a_new_topic_with_bad_input_keeps_what_was_typed(help_desk, alice):
    with schema_context("acme"):
        content.tag_get_or_create(name="Printers")
    client = signed_in(alice)
    response = client.post("/forum/c/help/new/", {"title": "", "body": "Kept body"})
    assert response.status_code == 400
    html = text(response)
    assert "This field is required." in html and "Kept body" in html
    unknown_tag = client.post("/forum/c/help/new/", {"title": "T", "body": "B", "tags": ["nope"]})
    assert unknown_tag.status_code == 400
    with schema_context("acme"):
        assert not Topic.objects.exists()


def test_a_topic_in_a_moderated_category_waits_for_approval(alice, bob):
    category(name="Introductions", moderated=True)
    client = signed_in(alice)
    page = client.post(
        "/forum/c/introductions/new/", {"title": "Hi all", "body": "New"}, follow=True
    )
    assert "Your topic waits for a moderator's approval" in text(page)
    with schema_context("acme"):
        topic = Topic.objects.get(title="Hi all")
    assert topic.review == Review.PENDING
    assert signed_in(bob).get(f"/forum/t/{topic.pk}/hi-all/").status_code == 404


def test_the_author_edits_within_the_window_and_not_after(thread, alice, bob, settings):
    mine = reply(thread, bob, "First words")
    client = signed_in(bob)
    topic_page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert f"/forum/r/{mine.pk}/edit/" in topic_page
    assert f"/forum/topic/{thread.pk}/edit/" not in topic_page  # not bob's topic
    form = client.get(f"/forum/r/{mine.pk}/edit/")
    assert form.status_code == 200 and "First words" in text(form)
    saved = client.post(f"/forum/r/{mine.pk}/edit/", {"body": "Better words"})
    assert saved["Location"] == f"/forum/r/{mine.pk}/"
    assert _replies(thread) == ["Better words"]
    other = signed_in(alice).get(f"/forum/r/{mine.pk}/edit/")
    assert other.status_code == 403 and "Only its author or a moderator" in text(other)

    with schema_context("acme"):
        Reply.objects.filter(pk=mine.pk).update(created_at=timezone.now() - timedelta(hours=2))
    after = client.get(f"/forum/t/{thread.pk}/", follow=True)
    assert "First words" not in text(after) and "Better words" in text(after)
    assert f"/forum/r/{mine.pk}/edit/" not in text(after)
    late = client.post(f"/forum/r/{mine.pk}/edit/", {"body": "Too late"})
    assert late.status_code == 403
    assert "Posts can be edited for 30 minutes after posting" in text(late)
    assert _replies(thread) == ["Better words"]


def test_the_author_edits_the_topic_and_its_address_follows_the_title(thread, alice):
    client = signed_in(alice)
    response = client.post(
        f"/forum/topic/{thread.pk}/edit/", {"title": "Printer fixed", "body": "It works now."}
    )
    assert response["Location"] == f"/forum/t/{thread.pk}/printer-fixed/"
    assert client.get(f"/forum/t/{thread.pk}/printer-trouble/").status_code == 301
    assert "It works now." in text(client.get(response["Location"]))


# -- reports, answers, subscriptions -----------------------------------------------------------


def test_a_member_reports_a_reply_once(thread, alice, bob, settings, clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "forum_flag_user": "2/h"}
    rude = reply(thread, bob, "Rude words")
    client = signed_in(alice)
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert f"/forum/r/{rude.pk}/report/" in page
    own_page = signed_in(bob).get(f"/forum/t/{thread.pk}/", follow=True)
    assert f"/forum/r/{rude.pk}/report/" not in text(own_page)
    form = client.get(f"/forum/r/{rude.pk}/report/")
    assert form.status_code == 200 and "Rude words" in text(form)
    sent = client.post(f"/forum/r/{rude.pk}/report/", {"reason": "abuse", "note": "Mean"})
    assert sent["Location"] == f"/forum/r/{rude.pk}/"
    with schema_context("acme"):
        assert list(Flag.objects.values_list("reason", "note", "reporter_id")) == [
            ("abuse", "Mean", alice.pk)
        ]
    again = client.post(f"/forum/r/{rude.pk}/report/", {"reason": "spam"})
    assert again.status_code == 409 and "You have already reported this reply." in text(again)
    bad = client.post(f"/forum/r/{rude.pk}/report/", {"reason": "nonsense"})
    assert bad.status_code == 400
    own = signed_in(bob).post(f"/forum/r/{rude.pk}/report/", {"reason": "spam"})
    assert own.status_code == 409 and "You cannot report your own reply." in text(own)
    assert tenant_client("acme").get(f"/forum/r/{rude.pk}/report/").status_code == 302

    # Two reports counted (the refused one too, not the invalid form): the third is one too many.
    other = reply(thread, bob, "More")
    limited = client.post(f"/forum/r/{other.pk}/report/", {"reason": "spam"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "Too many attempts" in text(limited)
    with schema_context("acme"):
        assert Flag.objects.count() == 1


def test_the_topics_author_marks_the_answer(thread, alice, bob):
    answer = reply(thread, bob, "Restart it")
    refused = signed_in(bob).post(f"/forum/topic/{thread.pk}/solve/", {"reply_id": answer.pk})
    assert refused.status_code == 403
    assert "Only the topic's author or a moderator marks the answer." in text(refused)
    client = signed_in(alice)
    assert "Mark as answer" in text(client.get(f"/forum/t/{thread.pk}/", follow=True))
    marked = client.post(f"/forum/topic/{thread.pk}/solve/", {"reply_id": answer.pk})
    assert marked["Location"] == f"/forum/r/{answer.pk}/"
    with schema_context("acme"):
        assert Topic.objects.get(pk=thread.pk).solution_id == answer.pk
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert "Unmark as answer" in page and "Solved: see the answer" in page
    client.post(f"/forum/topic/{thread.pk}/solve/", {"reply_id": ""})
    with schema_context("acme"):
        assert Topic.objects.get(pk=thread.pk).solution_id is None
    assert client.post(f"/forum/topic/{thread.pk}/solve/", {"reply_id": "x"}).status_code == 404


def test_subscribe_and_unsubscribe_from_the_topic_page(thread, bob):
    client = signed_in(bob)
    assert "Subscribe to replies" in text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    client.post(f"/forum/topic/{thread.pk}/subscribe/", {"subscribe": "1"})
    with schema_context("acme"):
        assert selectors.subscribed(thread.pk, bob)
    page = text(client.get(f"/forum/t/{thread.pk}/printer-trouble/"))
    assert "You will get an email for each new reply." in page and "Unsubscribe" in page
    client.post(
        f"/forum/topic/{thread.pk}/subscribe/",
        {"subscribe": "0", "next": "https://evil.example/"},
    )
    with schema_context("acme"):
        assert not selectors.subscribed(thread.pk, bob)


def test_the_emails_unsubscribe_link_asks_then_ends_the_subscription(thread, alice, globex):
    with schema_context("acme"):
        token = selectors.unsubscribe_token(user_id=alice.pk, topic_id=thread.pk)
        assert selectors.subscribed(thread.pk, alice)  # the author is subscribed
    visitor = tenant_client("acme")
    page = visitor.get(f"/forum/unsubscribe/{token}/")
    assert page.status_code == 200
    html = text(page)
    assert "Stop the emails about this topic?" in html and "Printer trouble" in html
    assert 'method="post"' in html
    with schema_context("acme"):
        assert selectors.subscribed(thread.pk, alice)  # a GET (a mail scanner) changes nothing
    done = visitor.post(f"/forum/unsubscribe/{token}/")
    assert done.status_code == 200 and "You are unsubscribed" in text(done)
    with schema_context("acme"):
        assert not Subscription.objects.filter(user=alice, topic=thread).exists()
    assert visitor.post(f"/forum/unsubscribe/{token}/").status_code == 200  # again: harmless
    assert visitor.get(f"/forum/unsubscribe/{token}x/").status_code == 404
    assert visitor.get("/forum/unsubscribe/7.42/").status_code == 404
    assert tenant_client("globex").get(f"/forum/unsubscribe/{token}/").status_code == 404
