"""Editors' admin of content on each tenant's ``admin.site``: nodes, categories, tags, media.

Thin delivery code. Every write goes through ``services``: the admin's own ORM
writes (``form.save()``, ``formset.save()``, ``obj.delete()``,
``queryset.delete()``) are never called. What the services refuse is shown
where the editor can act on it: ``ContentInvalid`` on the form field it names
(the form is shown again, nothing saved), ``InvalidTransition`` as a message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from apps.core.errors import InvalidTransition, NotFound, PlatformError

from . import selectors, services
from .errors import ContentInvalid
from .models import Category, Media, Node, NodeStatus, NodeTranslation, Tag

PREVIEW_PATH = "/preview/{}/"
REJECTED = "_content_admin_rejected"
MESSAGES_LISTED = 20
NAMES_LISTED = 10
REVISIONS_PER_PAGE = 50


def _locales() -> list[str]:
    """The current tenant's locales, the default one first."""
    return services.current_locales()


def _names(objects: list[Any], name: Callable[[Any], str]) -> str:
    shown = ", ".join(f"“{name(obj)}”" for obj in objects[:NAMES_LISTED])
    more = len(objects) - NAMES_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


# -- saving through services: refusals are shown on the form ---------------------------


@dataclass(eq=False)
class ServiceRejected(Exception):
    """A service refused what a change form sent.

    ``errors`` go on the main form (by field name, else as non-field errors);
    ``translation_errors`` on the translation inline form of each locale.
    """

    errors: dict[str, str] = field(default_factory=dict)
    translation_errors: dict[str, dict[str, str]] = field(default_factory=dict)


def _add_errors(form: forms.BaseForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        form.add_error(name if name in form.fields else None, message)


class ServiceFormAdmin(admin.ModelAdmin):
    """A change form whose save calls services (in ``save_model`` / ``save_related``).

    When one raises ``ServiceRejected`` the whole save is rolled back (the admin
    runs it in one transaction) and the form is built again from the same POST
    data with the refusal added to its errors, as if the form had found it.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            if not (rejected.errors or rejected.translation_errors):
                rejected.errors = {"__all__": "The change was refused."}
            setattr(request, REJECTED, rejected)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        rejected: ServiceRejected | None = getattr(request, REJECTED, None)
        if rejected is None:
            return form_class

        class RejectedForm(form_class):
            def clean(self):
                cleaned_data = super().clean()
                _add_errors(self, rejected.errors)
                return cleaned_data

        RejectedForm.__name__ = form_class.__name__
        return RejectedForm

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ContentInvalid, NotFound) as refused:
            self.message_user(request, f"Not deleted: {refused.detail}", messages.ERROR)
            return HttpResponseRedirect(self._url("change", object_id))

    def _url(self, name: str, *args) -> str:
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
    def delete_selected(self, request, queryset):
        """Django's confirmation page; then one service call per object, each reported."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        _, _, perms_needed, protected = self.get_deleted_objects(queryset, request)
        if protected:
            return django_delete_selected(self, request, queryset)
        if perms_needed:
            raise PermissionDenied
        deleted, refused = [], []
        for obj in queryset:
            name = self.display_name(obj)
            try:
                self.delete_model(request, obj)
            except PlatformError as error:
                refused.append((name, error))
            else:
                deleted.append(obj)
        if deleted:
            self.log_deletions(request, deleted)
            self.message_user(
                request,
                f"Deleted {len(deleted)} {self._plural(len(deleted))}: "
                f"{_names(deleted, self.display_name)}.",
                messages.SUCCESS,
            )
        self._report_refusals(request, refused, "deleted")
        return None

    def display_name(self, obj) -> str:
        return str(obj)

    def _plural(self, count: int) -> str:
        return str(self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural)

    def _report_refusals(self, request, refused: list[tuple[str, Exception]], verb: str) -> None:
        for name, error in refused[:MESSAGES_LISTED]:
            detail = getattr(error, "detail", str(error))
            self.message_user(request, f"“{name}” was not {verb}: {detail}", messages.ERROR)
        if len(refused) > MESSAGES_LISTED:
            self.message_user(
                request,
                f"… and {len(refused) - MESSAGES_LISTED} more were not {verb}.",
                messages.ERROR,
            )


def _adopt(instance, saved) -> None:
    """Make the admin's unsaved ``instance`` stand for the row a service created."""
    for model_field in saved._meta.concrete_fields:
        setattr(instance, model_field.attname, getattr(saved, model_field.attname))
    instance._state.adding = False
    instance._state.db = saved._state.db


# -- nodes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    past: str
    from_status: str
    service: str


TRANSITIONS = [
    Transition("publish", "Publish", "published", NodeStatus.DRAFT, "node_publish"),
    Transition("unpublish", "Unpublish", "unpublished", NodeStatus.PUBLISHED, "node_unpublish"),
    Transition("archive", "Archive", "archived", NodeStatus.PUBLISHED, "node_archive"),
    Transition("restore", "Restore from archive", "restored", NodeStatus.ARCHIVED, "node_restore"),
]
TRANSITIONS_BY_NAME = {transition.name: transition for transition in TRANSITIONS}
STATUS_COLORS = {
    NodeStatus.DRAFT: "content-badge--draft",
    NodeStatus.PUBLISHED: "content-badge--published",
    NodeStatus.ARCHIVED: "content-badge--archived",
}


class ScheduledFilter(admin.SimpleListFilter):
    title = "scheduled"
    parameter_name = "scheduled"

    def lookups(self, request, model_admin):
        return [("yes", "Scheduled"), ("no", "Not scheduled")]

    def queryset(self, request, queryset):
        scheduled = Q(status=NodeStatus.DRAFT, publish_at__isnull=False)
        if self.value() == "yes":
            return queryset.filter(scheduled)
        if self.value() == "no":
            return queryset.exclude(scheduled)
        return queryset


class NodeForm(forms.ModelForm):
    canonical_url = forms.URLField(
        label="Canonical URL",
        required=False,
        assume_scheme="https",
        help_text="Only when another address is the original of this content.",
    )

    class Meta:
        model = Node
        fields = [
            "kind",
            "category",
            "tags",
            "parent",
            "position",
            "publish_at",
            "canonical_url",
            "og_image",
            "metadata",
        ]
        help_texts = {
            "kind": "What this is: post, page, … (lowercase letters, digits, '-', '_').",
            "publish_at": "Publish this draft automatically at this time (UTC); "
            "empty: no schedule.",
            "metadata": 'A flat JSON object, e.g. {"reading_time": 4}.',
        }
        labels = {
            "parent": "Parent (in the page tree)",
            "og_image": "Social image (og:image)",
            "publish_at": "Publish at",
        }
        widgets = {"metadata": forms.Textarea(attrs={"rows": 3, "cols": 60})}


# Service error names -> NodeForm field names (others become non-field errors).
NODE_ERROR_FIELDS = {
    "kind": "kind",
    "parent": "parent",
    "category": "category",
    "tags": "tags",
    "og_image": "og_image",
    "metadata": "metadata",
    "publish_at": "publish_at",
}


class TranslationForm(forms.ModelForm):
    class Meta:
        model = NodeTranslation
        fields = [
            "locale",
            "body_format",
            "title",
            "slug",
            "excerpt",
            "body",
            "meta_title",
            "meta_description",
        ]
        widgets = {
            "excerpt": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "body": forms.Textarea(attrs={"rows": 14, "cols": 80}),
        }

    rejected: dict[str, dict[str, str]] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locales = _locales()
        if self.instance.locale and self.instance.locale not in locales:
            locales.append(self.instance.locale)
        if "locale" in self.fields:  # (a view-only form has no fields)
            self.fields["locale"] = forms.ChoiceField(choices=[(code, code) for code in locales])
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Empty: made from the title."

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("DELETE"):
            _add_errors(self, self.rejected.get(cleaned_data.get("locale"), {}))
        return cleaned_data


class TranslationInline(admin.StackedInline):
    model = NodeTranslation
    form = TranslationForm
    verbose_name = "translation"
    verbose_name_plural = "translations"
    min_num = 1
    fieldsets = [
        (None, {"fields": [("locale", "body_format"), "title", "slug", "excerpt", "body"]}),
        ("SEO", {"fields": ["meta_title", "meta_description"], "classes": ["collapse"]}),
    ]

    def get_extra(self, request, obj=None, **kwargs):
        return 0

    def get_max_num(self, request, obj=None, **kwargs):
        return max(len(_locales()), obj.translations.count() if obj else 0)

    def get_formset(self, request, obj=None, **kwargs):
        rejected: ServiceRejected | None = getattr(request, REJECTED, None)
        if rejected is not None:
            kwargs["form"] = type(
                "RejectedTranslationForm",
                (self.form,),
                {"rejected": rejected.translation_errors},
            )
        return super().get_formset(request, obj, **kwargs)


def _translation_input(cleaned_data: dict[str, Any]) -> services.TranslationInput:
    return services.TranslationInput(
        locale=cleaned_data["locale"],
        title=cleaned_data.get("title") or "",
        slug=cleaned_data.get("slug") or "",
        excerpt=cleaned_data.get("excerpt") or "",
        body=cleaned_data.get("body") or "",
        body_format=cleaned_data.get("body_format") or "markdown",
        meta_title=cleaned_data.get("meta_title") or "",
        meta_description=cleaned_data.get("meta_description") or "",
    )


def _split_errors(errors: dict[str, str], *, locale: str | None = None) -> ServiceRejected:
    """Route a service's errors to the node form or the translation forms they name."""
    rejected = ServiceRejected()
    for key, message in errors.items():
        parts = key.split(".", 2)
        if parts[0] == "translations" and len(parts) == 3:
            rejected.translation_errors.setdefault(parts[1], {})[parts[2]] = message
        elif key == "locale" and locale is not None:
            rejected.translation_errors.setdefault(locale, {})["locale"] = message
        else:
            rejected.errors[NODE_ERROR_FIELDS.get(key, "__all__")] = message
    return rejected


class NodeAdmin(ServiceFormAdmin):
    """Content of every kind. A subclass may set ``kind`` to manage one kind only."""

    kind: str | None = None

    form = NodeForm
    inlines = [TranslationInline]
    list_display = [
        "title",
        "kind",
        "status_badge",
        "locales",
        "author",
        "category",
        "published_at",
        "schedule",
        "updated_at",
        "preview_link",
    ]
    list_display_links = ["title"]
    list_filter = [
        "kind",
        "status",
        ScheduledFilter,
        "category",
        "tags",
        ("author", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["author", "category"]
    list_per_page = 50
    search_fields = ["translations__title", "translations__slug"]
    search_help_text = "Title or slug in any language, or a node id."
    ordering = ["-updated_at"]
    autocomplete_fields = ["parent", "tags", "og_image"]
    actions = [
        "publish_selected",
        "unpublish_selected",
        "archive_selected",
        "restore_selected",
        "schedule_selected",
        "unschedule_selected",
        "delete_selected",
    ]
    record_fields = [
        "kind",
        "status_badge",
        "author",
        "published_at",
        "version",
        "created_at",
        "updated_at",
        "links",
    ]

    # -- queries

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        default_locale = _locales()[0]
        titles = NodeTranslation.objects.filter(node=OuterRef("pk"))
        return queryset.annotate(
            admin_title=Coalesce(
                Subquery(titles.filter(locale=default_locale).values("title")[:1]),
                Subquery(titles.order_by("locale").values("title")[:1]),
            )
        ).prefetch_related(
            Prefetch(
                "translations",
                queryset=NodeTranslation.objects.only("id", "node_id", "locale").order_by("locale"),
                to_attr="admin_locales",
            )
        )

    def get_search_results(self, request, queryset, search_term):
        try:
            node_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(pk=node_id), False

    def get_list_filter(self, request):
        if self.kind:
            return [name for name in self.list_filter if name != "kind"]
        return self.list_filter

    def get_list_display(self, request):
        if self.kind:
            return [name for name in self.list_display if name != "kind"]
        return self.list_display

    # -- columns and read-only fields

    def display_name(self, obj) -> str:
        return getattr(obj, "admin_title", None) or str(obj)

    @admin.display(description="title", ordering="admin_title")
    def title(self, obj: Node) -> str:
        return self.display_name(obj)

    @admin.display(description="languages")
    def locales(self, obj: Node) -> str:
        return " ".join(translation.locale for translation in getattr(obj, "admin_locales", []))

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Node):
        return format_html(
            '<span class="content-badge {}">{}</span>',
            STATUS_COLORS.get(obj.status, ""),
            obj.get_status_display(),
        )

    @admin.display(description="schedule", ordering="publish_at")
    def schedule(self, obj: Node):
        if obj.publish_at is None or obj.status != NodeStatus.DRAFT:
            return "-"
        when = timezone.localtime(obj.publish_at)
        overdue = obj.publish_at <= timezone.now()
        return format_html(
            '<span class="content-badge content-badge--scheduled{}" title="{}">'
            "scheduled for {}{}</span>",
            " content-badge--overdue" if overdue else "",
            when.isoformat(),
            date_format(when, "DATETIME_FORMAT"),
            " (due)" if overdue else "",
        )

    @admin.display(description="preview")
    def preview_link(self, obj: Node):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview</a>', PREVIEW_PATH.format(obj.pk)
        )

    @admin.display(description="see also")
    def links(self, obj: Node):
        if obj.pk is None or obj._state.adding:
            return "-"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview</a> · <a href="{}">Revisions</a>',
            PREVIEW_PATH.format(obj.pk),
            self._url("revisions", obj.pk),
        )

    # -- the change form

    def get_fieldsets(self, request, obj=None):
        main = ["category", "tags", "parent", "position"]
        if obj is None and not self.kind:
            main = ["kind", *main]
        fieldsets = [
            (None, {"fields": main}),
            ("Publishing", {"fields": ["publish_at"]}),
            ("SEO", {"fields": ["canonical_url", "og_image"], "classes": ["collapse"]}),
            ("Advanced", {"fields": ["metadata"], "classes": ["collapse"]}),
        ]
        if obj is not None:
            fieldsets.insert(1, ("Record", {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = list(self.record_fields)
        if obj.status != NodeStatus.DRAFT:
            readonly.append("publish_at")  # only drafts can be scheduled
        return readonly

    def get_changeform_initial_data(self, request):
        return {"kind": "post", **super().get_changeform_initial_data(request)}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        node = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if node is not None:
            extra.setdefault("subtitle", self.display_name(node))
            extra["preview_url"] = PREVIEW_PATH.format(node.pk)
            extra["revisions_url"] = self._url("revisions", node.pk)
            if self.has_change_permission(request, node):
                extra["transitions"] = [
                    (transition, self._url("transition", node.pk, transition.name))
                    for transition in TRANSITIONS
                    if transition.from_status == node.status
                ]
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request, obj, form, change):
        """Nothing here: the node is written in ``save_related``, with its translations."""

    def save_related(self, request, form, formsets, change):
        (translations,) = [fs for fs in formsets if fs.model is NodeTranslation]
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if change:
            self._save_change(request, form, translations)
        else:
            self._save_new(request, form, translations)

    def _save_new(self, request, form, translations) -> None:
        data = form.cleaned_data
        kept = [
            f
            for f in translations.forms
            if f.has_changed() and f not in translations.deleted_forms and f.cleaned_data
        ]
        try:
            node = services.node_create(
                data=services.NodeInput(
                    kind=self.kind or data["kind"],
                    translations=[_translation_input(f.cleaned_data) for f in kept],
                    parent_id=data["parent"].pk if data.get("parent") else None,
                    position=data.get("position") or 0,
                    category_id=data["category"].pk if data.get("category") else None,
                    tag_ids=[tag.pk for tag in data.get("tags") or []],
                    metadata=data.get("metadata") or {},
                    canonical_url=data.get("canonical_url") or "",
                    og_image_id=data["og_image"].pk if data.get("og_image") else None,
                ),
                actor=request.user,
            )
            if data.get("publish_at"):
                node = services.node_schedule(
                    node_id=node.pk, publish_at=data["publish_at"], actor=request.user
                )
        except ContentInvalid as refused:
            raise _split_errors(refused.errors) from None
        except InvalidTransition as refused:
            raise ServiceRejected(errors={"publish_at": refused.detail}) from None
        _adopt(form.instance, node)
        translations.new_objects = [f.instance for f in kept]

    def _save_change(self, request, form, translations) -> None:
        node_id = form.instance.pk
        data = form.cleaned_data
        references = {"parent": "parent_id", "category": "category_id", "og_image": "og_image_id"}
        changes: dict[str, Any] = {}
        for name in form.changed_data:
            if name in references:
                changes[references[name]] = data[name].pk if data.get(name) else None
            elif name == "tags":
                changes["tag_ids"] = [tag.pk for tag in data.get("tags") or []]
            elif name in ("position", "metadata", "canonical_url"):
                changes[name] = data[name]
        try:
            if changes:
                services.node_update(node_id=node_id, actor=request.user, **changes)
            if "publish_at" in form.changed_data:
                services.node_schedule(
                    node_id=node_id, publish_at=data.get("publish_at"), actor=request.user
                )
        except ContentInvalid as refused:
            raise _split_errors(refused.errors) from None
        except InvalidTransition as refused:
            raise ServiceRejected(errors={"publish_at": refused.detail}) from None

        deleted = [f for f in translations.deleted_forms if f.instance.pk]
        for translation_form in translations.forms:
            if translation_form in translations.deleted_forms or not translation_form.has_changed():
                continue
            cleaned = translation_form.cleaned_data
            try:
                row = services.translation_upsert(
                    node_id=node_id, data=_translation_input(cleaned), actor=request.user
                )
            except ContentInvalid as refused:
                raise _split_errors(refused.errors, locale=cleaned["locale"]) from None
            previous = translation_form.instance.locale if translation_form.instance.pk else None
            if previous is None:
                translations.new_objects.append(row)
            else:
                translations.changed_objects.append((row, translation_form.changed_data))
                if previous != row.locale:  # the locale itself was changed: move, not copy
                    deleted.append(translation_form)
        for translation_form in deleted:
            locale = translation_form.initial.get("locale") or translation_form.instance.locale
            try:
                services.translation_delete(node_id=node_id, locale=locale, actor=request.user)
            except ContentInvalid as refused:
                message = "; ".join(refused.errors.values())
                raise ServiceRejected(
                    errors={"__all__": f"Translation {locale}: {message}"}
                ) from None
            translations.deleted_objects.append(translation_form.instance)

    def delete_model(self, request, obj):
        services.node_delete(node_id=obj.pk, actor=request.user)

    # -- bulk actions

    def _transition_many(self, request, queryset, transition: Transition) -> None:
        service = getattr(services, transition.service)
        done, refused = [], []
        for node in queryset.order_by("pk"):
            try:
                service(node_id=node.pk, actor=request.user)
            except (InvalidTransition, ContentInvalid, NotFound) as error:
                refused.append((self.display_name(node), error))
            else:
                done.append(node)
        if done:
            self.message_user(
                request,
                f"{transition.past.capitalize()} {len(done)} {self._plural(len(done))}: "
                f"{_names(done, self.display_name)}.",
                messages.SUCCESS,
            )
        self._report_refusals(request, refused, transition.past)

    @admin.action(permissions=["change"], description="Publish selected content")
    def publish_selected(self, request, queryset):
        self._transition_many(request, queryset, TRANSITIONS_BY_NAME["publish"])

    @admin.action(permissions=["change"], description="Unpublish selected content (to draft)")
    def unpublish_selected(self, request, queryset):
        self._transition_many(request, queryset, TRANSITIONS_BY_NAME["unpublish"])

    @admin.action(permissions=["change"], description="Archive selected content")
    def archive_selected(self, request, queryset):
        self._transition_many(request, queryset, TRANSITIONS_BY_NAME["archive"])

    @admin.action(permissions=["change"], description="Restore selected content from archive")
    def restore_selected(self, request, queryset):
        self._transition_many(request, queryset, TRANSITIONS_BY_NAME["restore"])

    @admin.action(permissions=["change"], description="Schedule publication of selected drafts…")
    def schedule_selected(self, request, queryset):
        form = ScheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._schedule_many(request, queryset, form.cleaned_data["publish_at"])
            return None
        nodes = list(queryset.order_by("pk"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Schedule publication",
            "opts": self.opts,
            "form": form,
            "nodes": [(node, self.display_name(node)) for node in nodes],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/schedule.html", context)

    @admin.action(permissions=["change"], description="Cancel scheduled publication")
    def unschedule_selected(self, request, queryset):
        scheduled = queryset.filter(publish_at__isnull=False)
        self._schedule_many(request, scheduled, None)
        skipped = queryset.count() - scheduled.count()
        if skipped:
            self.message_user(
                request, f"{skipped} selected item(s) had no schedule.", messages.INFO
            )

    def _schedule_many(self, request, queryset, publish_at: datetime | None) -> None:
        done, refused = [], []
        for node in queryset.order_by("pk"):
            try:
                services.node_schedule(node_id=node.pk, publish_at=publish_at, actor=request.user)
            except (InvalidTransition, ContentInvalid, NotFound) as error:
                refused.append((self.display_name(node), error))
            else:
                done.append(node)
        verb = "unscheduled"
        if publish_at is not None:
            verb = f"scheduled for {date_format(timezone.localtime(publish_at), 'DATETIME_FORMAT')}"
        if done:
            self.message_user(
                request,
                f"{len(done)} {self._plural(len(done))} {verb}: {_names(done, self.display_name)}.",
                messages.SUCCESS,
            )
        self._report_refusals(request, refused, "scheduled" if publish_at else "unscheduled")

    # -- extra pages: revisions, restore, single transitions

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/revisions/",
                view(self.revisions_view),
                name="{}_{}_revisions".format(*info),
            ),
            path(
                "<path:object_id>/revisions/<int:number>/restore/",
                view(self.revision_restore_view),
                name="{}_{}_revision_restore".format(*info),
            ),
            path(
                "<path:object_id>/transition/<str:name>/",
                view(require_POST(self.transition_view)),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def _node_or_404(self, request, object_id: str) -> Node:
        node = self.get_object(request, unquote(object_id))
        if node is None:
            raise Http404("No such content.")
        return node

    def revisions_view(self, request, object_id):
        node = self._node_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, node):
            raise PermissionDenied
        page = Paginator(selectors.revisions(node.pk), REVISIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        latest = node.revisions.order_by("-number").values_list("number", flat=True).first()
        rows = [
            {
                "revision": revision,
                "is_current": revision.number == latest,
                "titles": {
                    locale: values.get("title", "")
                    for locale, values in revision.snapshot.get("translations", {}).items()
                },
                "snapshot": json.dumps(revision.snapshot, indent=2, ensure_ascii=False),
                "restore_url": self._url("revision_restore", node.pk, revision.number),
            }
            for revision in page.object_list
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Revisions",
            "subtitle": self.display_name(node),
            "opts": self.opts,
            "original": node,
            "node_title": self.display_name(node),
            "rows": rows,
            "page": page,
            "can_restore": self.has_change_permission(request, node),
            "change_url": self._url("change", node.pk),
            "preview_url": PREVIEW_PATH.format(node.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/revisions.html", context)

    def revision_restore_view(self, request, object_id, number: int):
        node = self._node_or_404(request, object_id)
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        revision = node.revisions.select_related("author").filter(number=number).first()
        if revision is None:
            raise Http404("No such revision.")
        revisions_url = self._url("revisions", node.pk)
        if request.method == "POST":
            try:
                restored = services.revision_restore(
                    node_id=node.pk, number=number, actor=request.user
                )
            except (ContentInvalid, NotFound) as refused:
                self.message_user(request, f"Not restored: {refused.detail}", messages.ERROR)
            else:
                if restored.version == node.version:
                    self.message_user(
                        request,
                        f"Revision {number} is the same as the current content: nothing changed.",
                        messages.INFO,
                    )
                else:
                    node = self.get_object(request, str(node.pk)) or node
                    self.message_user(
                        request,
                        f"Restored revision {number} of “{self.display_name(node)}” "
                        "as a new revision.",
                        messages.SUCCESS,
                    )
            return HttpResponseRedirect(revisions_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore revision {number}?",
            "subtitle": self.display_name(node),
            "opts": self.opts,
            "original": node,
            "node_title": self.display_name(node),
            "revision": revision,
            "snapshot": json.dumps(revision.snapshot, indent=2, ensure_ascii=False),
            "revisions_url": revisions_url,
            "change_url": self._url("change", node.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/revision_restore.html", context)

    def transition_view(self, request, object_id, name: str):
        node = self._node_or_404(request, object_id)
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        transition = TRANSITIONS_BY_NAME.get(name)
        if transition is None:
            raise Http404("No such transition.")
        self._transition_many(request, self.get_queryset(request).filter(pk=node.pk), transition)
        return HttpResponseRedirect(self._url("change", node.pk))


class ScheduleForm(forms.Form):
    publish_at = forms.SplitDateTimeField(
        label="Publish at",
        widget=AdminSplitDateTime,
        help_text="Date and time (UTC) at which the selected drafts are published.",
    )

    def clean_publish_at(self):
        publish_at = self.cleaned_data["publish_at"]
        if publish_at <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return publish_at


admin.site.register(Node, NodeAdmin)


# -- categories and tags ------------------------------------------------------------------


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # (a view-only form has no fields)
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Empty: made from the name."
        if "parent" in self.fields and self.instance.pk:
            self.fields["parent"].queryset = Category.objects.exclude(pk=self.instance.pk)


@admin.register(Category)
class CategoryAdmin(ServiceFormAdmin):
    form = CategoryForm
    list_display = ["name", "slug", "parent", "position", "node_count"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    readonly_fields = ["position"]
    actions = ["delete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(node_count=Count("nodes"))

    @admin.display(description="content", ordering="node_count")
    def node_count(self, obj: Category) -> int:
        return obj.node_count

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        parent_id = data["parent"].pk if data.get("parent") else None
        try:
            if change:
                if "parent" in form.changed_data and parent_id is None:
                    raise ContentInvalid(
                        {"parent": "moving a category back to the top level is not supported yet"}
                    )
                services.category_update(
                    category_id=obj.pk, name=data["name"], slug=data.get("slug") or "",
                    parent_id=parent_id, description=data.get("description", ""),
                    actor=request.user,
                )  # fmt: skip
            else:
                category = services.category_create(
                    name=data["name"], slug=data.get("slug") or "", parent_id=parent_id,
                    description=data.get("description", ""), actor=request.user,
                )  # fmt: skip
                _adopt(obj, category)
        except ContentInvalid as refused:
            raise ServiceRejected(errors=dict(refused.errors)) from None

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk, actor=request.user)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Empty: made from the name."


@admin.register(Tag)
class TagAdmin(ServiceFormAdmin):
    form = TagForm
    list_display = ["name", "slug", "node_count"]
    search_fields = ["name", "slug"]
    actions = ["delete_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(node_count=Count("nodes"))

    @admin.display(description="content", ordering="node_count")
    def node_count(self, obj: Tag) -> int:
        return obj.node_count

    def get_readonly_fields(self, request, obj=None):
        # Tags are created and deleted; there is no service to rename one.
        return ["name", "slug"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            tag = services.tag_get_or_create(
                name=form.cleaned_data["name"],
                slug=form.cleaned_data.get("slug") or "",
                actor=request.user,
            )
        except ContentInvalid as refused:
            raise ServiceRejected(errors=dict(refused.errors)) from None
        _adopt(obj, tag)

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.tag_delete(tag_id=obj.pk, actor=request.user)


# -- media -------------------------------------------------------------------------------


def _alt_field(locale: str) -> str:
    return f"alt_{locale}"


class MediaForm(forms.ModelForm):
    """The file (checked by ``services.media_upload``) and one alt text per enabled locale."""

    file = forms.FileField(
        help_text="JPEG, PNG, GIF or WebP, at most 10 MB. The content is checked, not the name."
    )

    class Meta:
        model = Media
        fields = ["file"]

    locales: list[str] = []

    @classmethod
    def for_locales(cls, locales: Iterable[str]) -> type[MediaForm]:
        fields = {
            _alt_field(locale): forms.CharField(
                label=f"Alt text ({locale})",
                required=False,
                max_length=300,
                help_text="What the image shows, for readers who cannot see it.",
            )
            for locale in locales
        }
        return type("MediaForm", (cls,), {**fields, "locales": list(locales)})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields.pop("file", None)  # an uploaded file is kept as it is; upload a new one
        for locale in self.locales:
            if _alt_field(locale) in self.fields:
                self.fields[_alt_field(locale)].initial = (self.instance.alt_text or {}).get(
                    locale, ""
                )

    def alt_text(self) -> dict[str, str]:
        return {
            locale: self.cleaned_data[_alt_field(locale)]
            for locale in self.locales
            if self.cleaned_data.get(_alt_field(locale))
        }


@admin.register(Media)
class MediaAdmin(ServiceFormAdmin):
    list_display = [
        "thumbnail",
        "name",
        "content_type",
        "size_display",
        "dimensions",
        "alt_default",
        "uploaded_by",
        "created_at",
    ]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["content_type"]
    list_select_related = ["uploaded_by"]
    search_fields = ["file"]
    search_help_text = "File name."
    actions = ["delete_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MediaForm.for_locales(_locales())
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        alt = [_alt_field(locale) for locale in _locales()]
        if obj is None:
            return [(None, {"fields": ["file", *alt]})]
        if not self.has_change_permission(request, obj):
            alt = ["alt_texts"]
        return [
            (None, {"fields": ["preview", *alt]}),
            (
                "File",
                {
                    "fields": [
                        "file_url",
                        "content_type",
                        "size_display",
                        "dimensions",
                        "uploaded_by",
                        "created_at",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "preview",
            "alt_texts",
            "file_url",
            "content_type",
            "size_display",
            "dimensions",
            "uploaded_by",
            "created_at",
        ]

    @admin.display(description="")
    def thumbnail(self, obj: Media):
        return format_html(
            '<img src="{}" alt="{}" style="max-height:48px;max-width:96px">',
            obj.file.url,
            obj.alt(_locales()[0]),
        )

    @admin.display(description="image")
    def preview(self, obj: Media):
        return format_html(
            '<img src="{}" alt="{}" style="max-height:240px;max-width:100%">',
            obj.file.url,
            obj.alt(_locales()[0]),
        )

    @admin.display(description="file", ordering="file")
    def name(self, obj: Media) -> str:
        return Truncator(obj.file.name.rsplit("/", 1)[-1]).chars(60)

    @admin.display(description="file")
    def file_url(self, obj: Media):
        return format_html('<a href="{}">{}</a>', obj.file.url, obj.file.name)

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: Media) -> str:
        if obj.size < 1024:
            return f"{obj.size} bytes"
        if obj.size < 1024 * 1024:
            return f"{obj.size / 1024:.0f} kB"
        return f"{obj.size / 1048576:.1f} MB"

    @admin.display(description="dimensions")
    def dimensions(self, obj: Media) -> str:
        return f"{obj.width}x{obj.height}" if obj.width and obj.height else "-"

    @admin.display(description="alt text")
    def alt_texts(self, obj: Media):
        return format_html_join(
            "", "<div><strong>{}</strong>: {}</div>", sorted((obj.alt_text or {}).items())
        )

    @admin.display(description="alt text")
    def alt_default(self, obj: Media) -> str:
        return Truncator(obj.alt(_locales()[0])).chars(60)

    def save_model(self, request, obj, form, change):
        try:
            if change:
                if any(name.startswith("alt_") for name in form.changed_data):
                    services.media_update_alt(
                        media_id=obj.pk, alt_text=form.alt_text(), actor=request.user
                    )
            else:
                media = services.media_upload(
                    file=form.cleaned_data["file"], alt_text=form.alt_text(), actor=request.user
                )
                _adopt(obj, media)
        except ContentInvalid as refused:
            errors = dict(refused.errors)
            if "alt_text" in errors:
                errors["__all__"] = errors.pop("alt_text")
            raise ServiceRejected(errors=errors) from None

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.media_delete(media_id=obj.pk, actor=request.user)
