"""The forum in the tenant's admin: categories, topics, replies, reports and the moderators'
queue.

Thin delivery code. Every write is one call to ``apps.forum.services``; a refusal shows as a
form error or as a message per item, never as a 500. The moderators' actions are derived from
the services' tables (``TOPIC_ACTIONS``, ``REPLY_REVIEW``) and each asks for a reason first
(a confirmation page, like Django's delete confirmation): the moderation log keeps it with
who took the action. Authors and reporters are shown by their public name, never by their
login email.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst, format_lazy
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext_lazy

from apps.content.selectors import current_locales
from apps.core.admin import (
    ReadOnly,
    ServiceAdmin,
    TranslatedNamesForm,
    adopt,
    locale_field,
    names,
    short_date,
    truncated,
)
from apps.core.errors import PlatformError
from apps.core.transitions import Transition
from apps.people import selectors as people

from . import selectors, services
from .models import (
    REASON_MAX,
    Edit,
    Flag,
    ForumCategory,
    Moderation,
    ModerationEntry,
    Reply,
    Topic,
)

TOPIC_PATH = "/forum/t/{id}/{slug}/"
REPLY_PATH = "/forum/r/{id}/"
TITLE_CHARS = 60
EXCERPT_CHARS = 80
NAME_CHARS = 30
# Each section of the moderation queue shows this many items, oldest first.
QUEUE_LIMIT = 100
REPORTS_LIMIT = 300

# What the moderation log calls each action (the services' tables word their own).
ACTION_LABELS: dict[str, Any] = {
    **{action: transition.label for action, transition in services.TOPIC_ACTIONS.items()},
    "edit": pgettext_lazy("moderation action", "Edit"),
    "move": pgettext_lazy("moderation action", "Move"),
    "dismiss": pgettext_lazy("moderation action", "Dismiss reports"),
}


def author_name(user) -> str:
    """An author's or a reporter's public name; never their login (an email)."""
    if user is None:
        return "-"
    name = people.display_name(user) or gettext("member #%(number)s") % {"number": user.pk}
    return truncated(name, NAME_CHARS)


def topic_site_url(topic: Topic) -> str:
    return TOPIC_PATH.format(id=topic.pk, slug=topic.slug or "topic")


def admin_url(obj, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def excerpt(text: str, chars: int = EXCERPT_CHARS) -> str:
    return Truncator(" ".join((text or "").split())).chars(chars)


# -- moderators' actions: a reason first, then one service call per item -----------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy(
            "Kept in each topic's moderation log with your name. It may be left empty."
        ),
    )


class MoveForm(ReasonForm):
    category = forms.ModelChoiceField(
        label=gettext_lazy("Move to category"), queryset=ForumCategory.objects.none()
    )

    field_order = ["category", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.categories()


def moderation_action(transition: Transition):
    """The bulk action of one transition of a forum table: a confirmation page that asks
    for the reason, then the service for each selected item."""

    def act(modeladmin: ModerationAdmin, request, queryset):
        return modeladmin.moderate_selected(request, queryset, transition)

    act.__name__ = f"{transition.action}_selected"
    description = format_lazy(gettext_lazy("{action} selected"), action=transition.label)
    return admin.action(permissions=["change"], description=description)(act)


class ModerationAdmin(ServiceAdmin):
    """What the topics' and the replies' admins share: actions with a reason, read-only
    history, a refusal shown per item."""

    confirmation_template = "admin/forum/moderate_confirmation.html"
    # One count per list page, not a second one of the whole table.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # members post on the storefront

    def has_delete_permission(self, request, obj=None):
        return False  # moderators hide or reject; nothing is deleted

    def state(self, obj) -> str:
        """What the confirmation page says of an item's state."""
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        """Nothing: the service called by ``save_model`` wrote the tags, and the inlines (the
        log, the history, the reports) are read-only."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def nothing_selected(self, request, queryset) -> bool:
        """Whether the selection names no item of this list (forged, or gone meanwhile); the
        moderator is told so."""
        if queryset.exists():
            return False
        self.message_user(request, gettext("The selection is not valid."), messages.WARNING)
        return True

    def moderate_selected(self, request, queryset, transition: Transition):
        if self.nothing_selected(request, queryset):
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.transition_many(request, queryset, transition, reason=form.cleaned_data["reason"])
            return self.back(request, queryset)
        return self.confirmation(
            request,
            queryset,
            form,
            action=f"{transition.action}_selected",
            title=transition.label,
            button=transition.label,
        )

    def confirmation(self, request, queryset, form, *, action: str, title, button):
        items = list(queryset.order_by("pk"))
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("%(action)s: %(count)d %(items)s")
            % {"action": capfirst(title), "count": len(items), "items": self.plural(len(items))},
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "items": [(obj.pk, self.display_name(obj), self.state(obj)) for obj in items],
            "action": action,
            "button": button,
            "return_to": request.POST.get("return_to", ""),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.confirmation_template, context)

    def back(self, request, queryset):
        """From a topic's (or reply's) own page, back to it; else the list (Django's default)."""
        if request.POST.get("return_to") == "change":
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            if len(selected) == 1 and queryset.filter(pk=selected[0]).exists():
                return HttpResponseRedirect(self.url("change", selected[0]))
        return None

    def action_buttons(self, request, obj, transitions: list[Transition]) -> list[tuple[str, Any]]:
        """The actions of ``obj``'s change page (the same bulk actions, for one item)."""
        if not self.has_change_permission(request, obj):
            return []
        return [(f"{t.action}_selected", t.label) for t in transitions]


# -- categories ----------------------------------------------------------------------------


class ColourInput(forms.TextInput):
    input_type = "color"


class CategoryForm(TranslatedNamesForm):
    """A category's fields, and per other enabled locale its name and description."""

    colour = forms.CharField(
        label=capfirst(gettext_lazy("colour")),
        widget=ColourInput,
        initial="#3b6ea5",
        help_text=gettext_lazy("A hex colour such as #3b6ea5."),
        # A colour picker sends nothing else; a hand-made request is told the service's rule
        # here, before the table's constraint would answer with its name.
        validators=[
            RegexValidator(r"^#[0-9a-fA-F]{6}$", gettext_lazy("A hex colour such as #3b6ea5."))
        ],
    )
    translated = {"name": 120, "description": 2000}

    class Meta:
        model = ForumCategory
        fields = [
            "name", "slug", "description", "colour", "icon", "position", "parent", "moderated",
            "who_may_start",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            # One level of subcategories: a parent is a top-level category, never itself.
            parents = selectors.categories().filter(parent__isnull=True)
            if self.instance.pk:
                parents = parents.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = parents

    def translations(self) -> dict[str, dict[str, str]]:
        """The texts of each locale given here, and those stored for locales not shown."""
        kept = {
            locale: values
            for locale, values in (self.instance.translations or {}).items()
            if locale not in self.locales
        }
        return {**kept, **super().translations()}


@admin.register(ForumCategory)
class ForumCategoryAdmin(ServiceAdmin):
    form = CategoryForm
    base_fields = [
        "name", "slug", "description", "colour", "icon", "position", "parent", "moderated",
        "who_may_start",
    ]  # fmt: skip
    list_display = [
        "name", "swatch", "slug", "parent", "position", "moderated", "who_may_start",
        "topic_count",
    ]  # fmt: skip
    list_select_related = ["parent"]
    list_filter = ["moderated", "who_may_start"]
    search_fields = ["name", "slug"]
    ordering = ["position", "name"]
    actions = ["delete_selected"]
    # The service's names for the form's fields.
    error_fields = {"parent_id": "parent"}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(topic_count=Count("topics"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = self.form.for_locales(current_locales()[1:])
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        main = (None, {"fields": self.base_fields})
        if obj is not None and not self.has_change_permission(request, obj):
            return [main, (gettext("Other languages"), {"fields": ["other_names"]})]
        fields = [
            locale_field(name, locale)
            for locale in current_locales()[1:]
            for name in ("name", "description")
        ]
        return [main, (gettext("Other languages"), {"fields": fields})] if fields else [main]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "other_names"]

    @admin.display(description=gettext_lazy("other languages"))
    def other_names(self, obj: ForumCategory):
        return format_html_join(
            "",
            "<div><strong>{}</strong>: {}</div>",
            (
                (locale, values.get("name", ""))
                for locale, values in sorted((obj.translations or {}).items())
            ),
        )

    @admin.display(description=gettext_lazy("colour"), ordering="colour")
    def swatch(self, obj: ForumCategory):
        return format_html(
            '<span class="forum-swatch" style="background: {}" title="{}"></span> {}',
            obj.colour,
            obj.colour,
            obj.icon,
        )

    @admin.display(description=gettext_lazy("topics"), ordering="topic_count")
    def topic_count(self, obj: ForumCategory) -> int:
        return obj.topic_count

    def rejection(self, error):
        rejected = super().rejection(error)
        rejected.errors = {
            self._form_field(name): message for name, message in rejected.errors.items()
        }
        return rejected

    def _form_field(self, name: str) -> str:
        """``parent_id`` is ``parent``; ``translations.de`` is ``name_de``."""
        if name in self.error_fields:
            return self.error_fields[name]
        parts = name.split(".")
        if parts[0] == "translations" and len(parts) > 1:
            return locale_field(parts[2] if len(parts) > 2 else "name", parts[1])
        return name

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        values = {
            "name": data["name"],
            "slug": data.get("slug") or "",
            "description": data.get("description") or "",
            "translations": form.translations(),
            "colour": data["colour"],
            "icon": data.get("icon") or "",
            "position": data.get("position") or 0,
            "parent_id": data["parent"].pk if data.get("parent") else None,
            "moderated": bool(data.get("moderated")),
            "who_may_start": data["who_may_start"],
        }
        if change:
            services.category_update(category_id=obj.pk, actor=request.user, **values)
        else:
            adopt(obj, services.category_create(actor=request.user, **values))

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk, actor=request.user)


# -- topics --------------------------------------------------------------------------------


class ModerationLogInline(ReadOnly, admin.TabularInline):
    """The topic's moderation log: who did what, when, why, to which reply. Read-only."""

    model = ModerationEntry
    fields = ["when", "actor_label", "action_label", "reason", "reply_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("moderation log entry")
    verbose_name_plural = gettext_lazy("moderation log")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reply")

    @admin.display(description=gettext_lazy("at"))
    def when(self, entry: ModerationEntry):
        return short_date(entry.created_at)

    @admin.display(description=gettext_lazy("action"))
    def action_label(self, entry: ModerationEntry) -> str:
        return str(ACTION_LABELS.get(entry.action, entry.action))

    @admin.display(description=gettext_lazy("reply"))
    def reply_link(self, entry: ModerationEntry):
        if entry.reply is None:
            return "-"
        return format_html(
            '<a href="{}">#{}</a> {}',
            admin_url(entry.reply),
            entry.reply.pk,
            excerpt(entry.reply.body, 40),
        )


class EditInline(ReadOnly, admin.TabularInline):
    """The edit history of the topic and its replies: what each said before. Read-only."""

    model = Edit
    fields = ["when", "editor_name", "reply_link", "title", "previous"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("edit")
    verbose_name_plural = gettext_lazy("edit history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("editor__profile", "reply")

    @admin.display(description=gettext_lazy("edited at"))
    def when(self, edit: Edit):
        return short_date(edit.created_at)

    @admin.display(description=gettext_lazy("editor"))
    def editor_name(self, edit: Edit) -> str:
        return author_name(edit.editor)

    @admin.display(description=gettext_lazy("reply"))
    def reply_link(self, edit: Edit):
        if edit.reply is None:
            return "-"
        return format_html('<a href="{}">#{}</a>', admin_url(edit.reply), edit.reply.pk)

    @admin.display(description=gettext_lazy("previous body"))
    def previous(self, edit: Edit):
        return truncated(" ".join(edit.body.split()), 200)


class TopicForm(forms.ModelForm):
    """What moderators may edit of a topic: its title, body and tags, and why."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the edit"),
        required=False,
        max_length=REASON_MAX,
        help_text=gettext_lazy(
            "Kept in the moderation log when you edit another member's post. It may be left empty."
        ),
    )

    class Meta:
        model = Topic
        fields = ["title", "body", "tags"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12, "cols": 80})}


@admin.register(Topic)
class TopicAdmin(ModerationAdmin):
    form = TopicForm
    # The title cell links to the change page and names the category and the author below,
    # so that the list fits a 1280 px window with the admin's sidebar and filters open.
    list_display = [
        "topic_cell", "state_cell", "pinned", "locked", "solved", "created", "views_count",
    ]  # fmt: skip
    list_display_links = None
    list_filter = ["category", "status", "review", "pinned", "locked"]
    list_select_related = ["category", f"author__{people.PROFILE}"]
    list_per_page = 50
    search_fields = ["title"]
    search_help_text = gettext_lazy("Title, or a topic's number.")
    ordering = ["-created_at", "-pk"]
    autocomplete_fields = ["tags"]
    inlines = [ModerationLogInline, EditInline]
    actions = [
        *(moderation_action(transition) for transition in services.TOPIC_ACTIONS.values()),
        "move_selected",
    ]
    record_fields = [
        "category", "author_name", "state", "solution_link", "views_count", "locale",
        "created_at", "edited_at", "links",
    ]  # fmt: skip

    # -- list

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        if term.isdigit() and len(term) < 19:
            return queryset.filter(pk=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    def display_name(self, obj) -> str:
        return Truncator(obj.title).chars(TITLE_CHARS)

    @admin.display(description=gettext_lazy("author"), ordering="author__profile__display_name")
    def author_name(self, obj: Topic) -> str:
        return author_name(obj.author)

    @admin.display(description=gettext_lazy("topic"), ordering="title")
    def topic_cell(self, obj: Topic):
        return format_html(
            '<a class="list-title" href="{}" title="{}">{}</a><div class="list-meta">{} · {}</div>',
            self.url("change", obj.pk),
            obj.title,
            Truncator(obj.title).chars(TITLE_CHARS),
            truncated(obj.category.name, NAME_CHARS),
            author_name(obj.author),
        )

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def state_cell(self, obj: Topic):
        """Open, closed or archived; below, where it stands with the moderators."""
        return format_html(
            '{}<div class="list-meta forum-review forum-review--{}">{}</div>',
            obj.get_status_display(),
            obj.review,
            obj.get_review_display(),
        )

    @admin.display(description=gettext_lazy("solved"), boolean=True)
    def solved(self, obj: Topic) -> bool:
        return obj.solution_id is not None

    @admin.display(description=gettext_lazy("created"), ordering="created_at")
    def created(self, obj: Topic):
        return short_date(obj.created_at)

    # -- the change page: the record read-only, the text editable, the history below

    def get_fieldsets(self, request, obj=None):
        text = ["title", "body", "tags"]
        if obj is not None and self.has_change_permission(request, obj):
            text.append("reason")
        return [(None, {"fields": text}), (gettext("Record"), {"fields": self.record_fields})]

    def get_readonly_fields(self, request, obj=None):
        return list(self.record_fields)

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: Topic) -> str:
        parts = [obj.get_status_display(), obj.get_review_display()]
        if obj.pinned:
            parts.append(services.STATE_LABELS["pinned"])
        if obj.locked:
            parts.append(services.STATE_LABELS["locked"])
        return " · ".join(str(part) for part in parts)

    @admin.display(description=gettext_lazy("solution"))
    def solution_link(self, obj: Topic):
        if obj.solution_id is None:
            return "-"
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:forum_reply_change", args=[obj.solution_id]),
            obj.solution_id,
        )

    @admin.display(description=gettext_lazy("see also"))
    def links(self, obj: Topic):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a> · <a href="{}?topic__id__exact={}">'
            "{}</a>",
            topic_site_url(obj),
            gettext("View on site"),
            reverse("admin:forum_reply_changelist"),
            obj.pk,
            gettext("Replies"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        topic = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if topic is not None:
            transitions = [
                transition
                for machine in services.TOPIC_MACHINES
                for transition in machine.table.available(machine.read(topic))
            ]
            buttons = self.action_buttons(request, topic, transitions)
            if buttons:
                buttons.append(("move_selected", gettext("Move")))
            extra["moderation_buttons"] = buttons
            extra["changelist_url"] = self.url("changelist")
            extra["site_url_of_topic"] = topic_site_url(topic)
            extra["action_checkbox_name"] = ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        changes: dict[str, Any] = {
            name: data[name] for name in ("title", "body") if name in form.changed_data
        }
        if "tags" in form.changed_data:
            changes["tag_slugs"] = [tag.slug for tag in data.get("tags") or []]
        if changes:
            services.topic_edit(
                topic_id=obj.pk, actor=request.user, reason=data.get("reason") or "", **changes
            )

    # -- actions

    def take_transition(self, request, obj, transition: Transition, **options: Any) -> None:
        services.topic_moderate(
            topic_id=obj.pk,
            action=transition.action,
            actor=request.user,
            reason=options.get("reason", ""),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Move to category…"))
    def move_selected(self, request, queryset):
        if self.nothing_selected(request, queryset):
            return None
        form = MoveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.move_many(
                request, queryset, form.cleaned_data["category"], form.cleaned_data["reason"]
            )
            return self.back(request, queryset)
        return self.confirmation(
            request,
            queryset,
            form,
            action="move_selected",
            title=gettext("Move to category"),
            button=gettext("Move"),
        )

    def move_many(self, request, queryset, category: ForumCategory, reason: str) -> None:
        done, refused = [], []
        for topic in queryset.order_by("pk"):
            try:
                services.topic_move(
                    topic_id=topic.pk, category_id=category.pk, actor=request.user, reason=reason
                )
            except PlatformError as error:
                refused.append((self.display_name(topic), error))
            else:
                done.append(topic)
        if done:
            self.message_user(
                request,
                gettext("Moved %(count)d %(items)s to “%(category)s”: %(names)s.")
                % {
                    "count": len(done),
                    "items": self.plural(len(done)),
                    "category": category.name,
                    "names": names(done, self.display_name),
                },
                messages.SUCCESS,
            )
        self.report_refusals(
            request,
            refused,
            one=gettext("“%(name)s” was not moved"),
            more=gettext("… and %(count)d more were not moved."),
        )


# -- replies -------------------------------------------------------------------------------


class ReportsFilter(admin.SimpleListFilter):
    title = gettext_lazy("reports")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [
            ("open", gettext_lazy("With open reports")),
            ("any", gettext_lazy("Ever reported")),
            ("none", gettext_lazy("Never reported")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_flag_count__gt=0)
        if self.value() == "any":
            return queryset.filter(flag_count__gt=0)
        if self.value() == "none":
            return queryset.filter(flag_count=0)
        return queryset


class ReportInline(ReadOnly, admin.TabularInline):
    """The reports of a reply, open and resolved. Read-only."""

    model = Flag
    fk_name = "reply"
    fields = ["when", "reporter_name", "reason", "note", "outcome"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("report")
    verbose_name_plural = gettext_lazy("reports")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(f"reporter__{people.PROFILE}", f"resolved_by__{people.PROFILE}")
        )

    @admin.display(description=gettext_lazy("reported at"))
    def when(self, flag: Flag):
        return short_date(flag.created_at)

    @admin.display(description=gettext_lazy("reported by"))
    def reporter_name(self, flag: Flag) -> str:
        return author_name(flag.reporter)

    @admin.display(description=gettext_lazy("resolution"))
    def outcome(self, flag: Flag) -> str:
        return report_outcome(flag)


def report_outcome(flag: Flag) -> str:
    if flag.resolved_at is None:
        return gettext("Open")
    return gettext("%(resolution)s by %(who)s") % {
        "resolution": ACTION_LABELS.get(flag.resolution, flag.resolution),
        "who": author_name(flag.resolved_by),
    }


class ReplyForm(forms.ModelForm):
    reason = TopicForm.base_fields["reason"]

    class Meta:
        model = Reply
        fields = ["body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10, "cols": 80})}


@admin.register(Reply)
class ReplyAdmin(ModerationAdmin):
    form = ReplyForm
    list_display = ["reply_cell", "author_name", "status", "reports", "created"]
    list_display_links = None
    list_filter = ["status", ReportsFilter]
    list_select_related = ["topic", f"author__{people.PROFILE}"]
    list_per_page = 50
    search_fields = ["body", "topic__title"]
    ordering = ["-created_at", "-pk"]
    inlines = [ReportInline]
    actions = [
        *(moderation_action(transition) for transition in services.REPLY_REVIEW.by_action.values()),
        "dismiss_reports_selected",
    ]
    record_fields = [
        "topic_link", "author_name", "status", "quoted_link", "created_at", "edited_at", "links",
    ]  # fmt: skip

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                flag_count=Count("flags"),
                open_flag_count=Count("flags", filter=Q(flags__resolved_at__isnull=True)),
            )
        )

    def display_name(self, obj) -> str:
        return excerpt(obj.body, 40)

    @admin.display(description=gettext_lazy("reply"))
    def reply_cell(self, obj: Reply):
        """The reply's first words (a link to it), and below the topic it answers."""
        return format_html(
            '<a class="list-title" href="{}">{}</a><div class="list-meta">{}</div>',
            self.url("change", obj.pk),
            excerpt(obj.body) or f"#{obj.pk}",
            truncated(obj.topic.title, TITLE_CHARS),
        )

    @admin.display(description=gettext_lazy("topic"), ordering="topic__title")
    def topic_link(self, obj: Reply):
        return format_html(
            '<a href="{}">{}</a>', admin_url(obj.topic), truncated(obj.topic.title, TITLE_CHARS)
        )

    @admin.display(description=gettext_lazy("author"), ordering="author__profile__display_name")
    def author_name(self, obj: Reply) -> str:
        return author_name(obj.author)

    @admin.display(description=gettext_lazy("open reports"), ordering="open_flag_count")
    def reports(self, obj: Reply):
        if not getattr(obj, "flag_count", 0):
            return "-"
        return gettext("%(open)d of %(all)d") % {"open": obj.open_flag_count, "all": obj.flag_count}

    @admin.display(description=gettext_lazy("created"), ordering="created_at")
    def created(self, obj: Reply):
        return short_date(obj.created_at)

    @admin.display(description=gettext_lazy("quoted reply"))
    def quoted_link(self, obj: Reply):
        if obj.quoted_id is None:
            return "-"
        return format_html('<a href="{}">#{}</a>', self.url("change", obj.quoted_id), obj.quoted_id)

    @admin.display(description=gettext_lazy("see also"))
    def links(self, obj: Reply):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            REPLY_PATH.format(id=obj.pk),
            gettext("View on site"),
        )

    def state(self, obj: Reply) -> str:
        state = str(obj.get_status_display())
        if getattr(obj, "open_flag_count", 0):
            state += " · " + ngettext(
                "%(count)d open report", "%(count)d open reports", obj.open_flag_count
            ) % {"count": obj.open_flag_count}
        return state

    # -- the change page

    def get_fieldsets(self, request, obj=None):
        text = ["body"]
        if obj is not None and self.has_change_permission(request, obj):
            text.append("reason")
        return [(None, {"fields": text}), (gettext("Record"), {"fields": self.record_fields})]

    def get_readonly_fields(self, request, obj=None):
        return list(self.record_fields)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        reply = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if reply is not None:
            buttons = self.action_buttons(
                request, reply, services.REPLY_REVIEW.available(reply.status)
            )
            if buttons and reply.open_flag_count:
                buttons.append(("dismiss_reports_selected", gettext("Dismiss reports")))
            extra["moderation_buttons"] = buttons
            extra["changelist_url"] = self.url("changelist")
            extra["site_url_of_topic"] = REPLY_PATH.format(id=reply.pk)
            extra["action_checkbox_name"] = ACTION_CHECKBOX_NAME
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        if "body" in form.changed_data:
            services.reply_edit(
                reply_id=obj.pk,
                body=form.cleaned_data["body"],
                actor=request.user,
                reason=form.cleaned_data.get("reason") or "",
            )

    # -- actions

    def take_transition(self, request, obj, transition: Transition, **options: Any) -> None:
        services.reply_moderate(
            reply_id=obj.pk,
            action=transition.action,
            actor=request.user,
            reason=options.get("reason", ""),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Dismiss reports…"))
    def dismiss_reports_selected(self, request, queryset):
        if self.nothing_selected(request, queryset):
            return None
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self.dismiss_many(request, queryset, form.cleaned_data["reason"])
            return self.back(request, queryset)
        return self.confirmation(
            request,
            queryset,
            form,
            action="dismiss_reports_selected",
            title=gettext("Dismiss reports"),
            button=gettext("Dismiss reports"),
        )

    def dismiss_many(self, request, queryset, reason: str) -> None:
        """Close the open reports of each reply, which stays as it is."""
        done, refused = [], []
        for reply in queryset.order_by("pk"):
            try:
                services.reply_flags_dismiss(reply_id=reply.pk, actor=request.user, reason=reason)
            except PlatformError as error:
                refused.append((self.display_name(reply), error))
            else:
                done.append(reply)
        if done:
            self.message_user(
                request,
                gettext("Dismissed the reports of %(count)d %(items)s: %(names)s.")
                % {
                    "count": len(done),
                    "items": self.plural(len(done)),
                    "names": names(done, self.display_name),
                },
                messages.SUCCESS,
            )
        self.report_refusals(
            request,
            refused,
            one=gettext("The reports of “%(name)s” were not dismissed"),
            more=gettext("… and %(count)d more were not dismissed."),
        )


# -- reports -------------------------------------------------------------------------------


class ResolvedFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", gettext_lazy("Open")), ("yes", gettext_lazy("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Flag)
class FlagAdmin(ReadOnly, admin.ModelAdmin):
    """Members' reports, open and resolved: a read-only list (moderators act on the reply)."""

    list_display = ["reply_link", "reporter_name", "reason_cell", "reported", "outcome"]
    list_display_links = None
    list_filter = [ResolvedFilter, "reason"]
    list_select_related = [
        "reply__topic", f"reporter__{people.PROFILE}", f"resolved_by__{people.PROFILE}",
    ]  # fmt: skip
    list_per_page = 100
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    actions = None

    @admin.display(description=gettext_lazy("reply"))
    def reply_link(self, flag: Flag):
        """The reply's first words (a link to it), and below the topic it answers."""
        return format_html(
            '<a class="list-title" href="{}">{}</a><div class="list-meta">{}</div>',
            admin_url(flag.reply),
            excerpt(flag.reply.body, 50),
            truncated(flag.reply.topic.title, TITLE_CHARS),
        )

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_cell(self, flag: Flag):
        """The reason chosen, and below the reporter's note."""
        if not flag.note:
            return flag.get_reason_display()
        return format_html(
            '{}<div class="list-meta">“{}”</div>',
            flag.get_reason_display(),
            truncated(flag.note, EXCERPT_CHARS),
        )

    @admin.display(description=gettext_lazy("reported by"))
    def reporter_name(self, flag: Flag) -> str:
        return author_name(flag.reporter)

    @admin.display(description=gettext_lazy("reported at"), ordering="created_at")
    def reported(self, flag: Flag):
        return short_date(flag.created_at)

    @admin.display(description=gettext_lazy("resolution"), ordering="resolved_at")
    def outcome(self, flag: Flag) -> str:
        return report_outcome(flag)


# -- the moderation queue --------------------------------------------------------------------

QUEUE_ACTIONS = {
    "approve": pgettext_lazy("moderation action", "Approve"),
    "reject": pgettext_lazy("moderation action", "Reject"),
    "hide": pgettext_lazy("moderation action", "Hide"),
    "dismiss": pgettext_lazy("moderation action", "Dismiss reports"),
}
_ID_MAX = 2**63 - 1


class IdsField(forms.Field):
    """The ids of the items ticked in one section of the queue."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        ids = set()
        for item in value:
            text = str(item).strip()
            if not text.isdigit() or not 0 < int(text) <= _ID_MAX:
                raise ValidationError(gettext("The selection is not valid."), code="invalid")
            ids.add(int(text))
        return sorted(ids)


class QueueForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=list(QUEUE_ACTIONS.items()))
    reason = ReasonForm.base_fields["reason"]
    topics = IdsField(required=False)
    replies = IdsField(required=False)

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("topics") or cleaned.get("replies")) and not self.errors:
            raise ValidationError(
                gettext("Items must be selected in order to perform actions on them.")
            )
        return cleaned


@admin.register(Moderation)
class ModerationQueueAdmin(ReadOnly, admin.ModelAdmin):
    """The queue: pending topics, pending replies and reported replies, oldest first, worked
    in bulk. Open to staff who may change topics and replies (the Moderator group)."""

    template = "admin/forum/moderation_queue.html"

    def may_moderate(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and user.has_perms(("forum.change_topic", "forum.change_reply"))
        )

    def has_module_permission(self, request):
        return self.may_moderate(request)

    def has_view_permission(self, request, obj=None):
        return self.may_moderate(request)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "",
                self.admin_site.admin_view(self.queue_view),
                name="{}_{}_changelist".format(*info),
            )
        ]

    def queue_view(self, request):
        if not self.may_moderate(request):
            raise PermissionDenied
        form = QueueForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if form.is_valid():
                self.apply(request, form.cleaned_data)
                return HttpResponseRedirect(request.get_full_path())
            for errors in form.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.WARNING)
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Moderation queue"),
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "actions": list(QUEUE_ACTIONS.items()),
            **self.sections(),
        }
        return TemplateResponse(request, self.template, context)

    def sections(self) -> dict[str, Any]:
        """The three lists of the queue, oldest first, each bounded: one query each."""
        topics = list(selectors.pending_topics().order_by("created_at", "pk")[: QUEUE_LIMIT + 1])
        replies = list(
            selectors.pending_replies()
            .select_related("topic__category")
            .order_by("created_at", "pk")[: QUEUE_LIMIT + 1]
        )
        flags = list(
            selectors.open_flags()
            .select_related(f"reply__author__{people.PROFILE}")
            .order_by("created_at", "pk")[: REPORTS_LIMIT + 1]
        )
        reported: dict[int, dict[str, Any]] = {}
        for flag in flags[:REPORTS_LIMIT]:
            entry = reported.setdefault(flag.reply_id, {"reply": flag.reply, "reports": []})
            entry["reports"].append(
                {
                    "reason": flag.get_reason_display(),
                    "note": flag.note,
                    "reporter": author_name(flag.reporter),
                    "created_at": short_date(flag.created_at),
                }
            )
        return {
            "pending_topics": [self.topic_row(topic) for topic in topics[:QUEUE_LIMIT]],
            "more_topics": len(topics) > QUEUE_LIMIT,
            "pending_replies": [self.reply_row(reply) for reply in replies[:QUEUE_LIMIT]],
            "more_replies": len(replies) > QUEUE_LIMIT,
            "reported_replies": [
                {**self.reply_row(entry["reply"]), "reports": entry["reports"]}
                for entry in reported.values()
            ],
            "more_reports": len(flags) > REPORTS_LIMIT,
            "queue_limit": QUEUE_LIMIT,
        }

    def topic_row(self, topic: Topic) -> dict[str, Any]:
        return {
            "id": topic.pk,
            "title": topic.title,
            "excerpt": excerpt(topic.body),
            "category": topic.category.name,
            "author": author_name(topic.author),
            "created_at": short_date(topic.created_at),
            "site_url": topic_site_url(topic),
            "admin_url": admin_url(topic),
        }

    def reply_row(self, reply: Reply) -> dict[str, Any]:
        return {
            "id": reply.pk,
            "excerpt": excerpt(reply.body),
            "topic": reply.topic.title,
            "topic_site_url": topic_site_url(reply.topic),
            "topic_admin_url": admin_url(reply.topic),
            "author": author_name(reply.author),
            "created_at": short_date(reply.created_at),
            "site_url": REPLY_PATH.format(id=reply.pk),
            "admin_url": admin_url(reply),
        }

    def apply(self, request, data: dict[str, Any]) -> None:
        """The action on each ticked item, through the topics' and the replies' admins (the
        same service calls and the same report of what was done and what was refused)."""
        action, reason = data["action"], data["reason"]
        topic_admin: TopicAdmin = self.admin_site.get_model_admin(Topic)
        reply_admin: ReplyAdmin = self.admin_site.get_model_admin(Reply)
        topics = topic_admin.get_queryset(request).filter(pk__in=data["topics"])
        replies = reply_admin.get_queryset(request).filter(pk__in=data["replies"])
        if action == "dismiss":
            if data["topics"]:
                self.message_user(
                    request,
                    gettext(
                        "Reports are about replies: the selected topics were left as they are."
                    ),
                    messages.WARNING,
                )
            if data["replies"]:
                reply_admin.dismiss_many(request, replies, reason)
            return
        if data["topics"]:
            topic_admin.transition_many(
                request, topics, services.TOPIC_REVIEW.by_action[action], reason=reason
            )
        if data["replies"]:
            reply_admin.transition_many(
                request, replies, services.REPLY_REVIEW.by_action[action], reason=reason
            )
