"""The admin of content nodes: the base every node admin shares, and content's own.

``NodeAdmin`` is the change list, the change form with its translation inline,
the status actions (derived from ``services.NODE_TRANSITIONS``), scheduling and
revisions. Each write is one service call through a hook; the blog's posts
(``apps.blog.admin``) and the pages (``apps.pages.admin``) subclass it for
their kind and call their own services, so their rules apply in the admin as
in the API. Content's own entry, "Content", lists the kinds no wrapper owns;
an editor picks a kind, never types one.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from apps.core.admin import (
    REJECTED,
    ServiceAdmin,
    ServiceRejected,
    add_errors,
    adopt,
    names,
    short_date,
    transition_action,
    truncated,
)
from apps.core.errors import InvalidTransition, PlatformError
from apps.core.transitions import Transition
from apps.people import selectors as people

from .. import selectors, services
from ..errors import ContentInvalid
from ..kinds import WRAPPER_KINDS
from ..models import Node, NodeStatus, NodeTranslation
from ..selectors import current_locales
from ..services import NODE_TRANSITIONS
from .revisions import PREVIEW_PATH, RevisionViews

# How much of a title, a name or a category the list shows (the whole of it in ``title=``).
TITLE_CHARS = 60
NAME_CHARS = 24


STATUS_COLORS = {
    NodeStatus.DRAFT: "content-badge--draft",
    NodeStatus.PUBLISHED: "content-badge--published",
    NodeStatus.ARCHIVED: "content-badge--archived",
}


class ScheduledFilter(admin.SimpleListFilter):
    title = gettext_lazy("scheduled")
    parameter_name = "scheduled"

    def lookups(self, request, model_admin):
        return [("yes", gettext("Scheduled")), ("no", gettext("Not scheduled"))]

    def queryset(self, request, queryset):
        scheduled = Q(status=NodeStatus.DRAFT, publish_at__isnull=False)
        if self.value() == "yes":
            return queryset.filter(scheduled)
        if self.value() == "no":
            return queryset.exclude(scheduled)
        return queryset


class NodeForm(forms.ModelForm):
    canonical_url = forms.URLField(
        label=gettext_lazy("Canonical URL"),
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("Only when another address is the original of this content."),
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
            "kind": gettext_lazy(
                "What this is: post, page, … (lowercase letters, digits, '-', '_')."
            ),
            "publish_at": gettext_lazy(
                "Publish this draft automatically at this time (UTC); empty: no schedule."
            ),
            "metadata": gettext_lazy('A flat JSON object, e.g. {"reading_time": 4}.'),
        }
        labels = {
            "parent": gettext_lazy("Parent (in the page tree)"),
            "og_image": gettext_lazy("Social image (og:image)"),
            "publish_at": gettext_lazy("Publish at"),
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
        locales = current_locales()
        if self.instance.locale and self.instance.locale not in locales:
            locales.append(self.instance.locale)
        if "locale" in self.fields:  # (a view-only form has no fields)
            self.fields["locale"] = forms.ChoiceField(
                label=self.fields["locale"].label, choices=[(code, code) for code in locales]
            )
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = gettext_lazy("Empty: made from the title.")

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("DELETE"):
            add_errors(self, self.rejected.get(cleaned_data.get("locale"), {}))
        return cleaned_data


class TranslationInline(admin.StackedInline):
    model = NodeTranslation
    form = TranslationForm
    verbose_name = gettext_lazy("translation")
    verbose_name_plural = gettext_lazy("translations")
    min_num = 1
    fieldsets = [
        (None, {"fields": [("locale", "body_format"), "title", "slug", "excerpt", "body"]}),
        (
            gettext_lazy("SEO"),
            {"fields": ["meta_title", "meta_description"], "classes": ["collapse"]},
        ),
    ]

    def get_extra(self, request, obj=None, **kwargs):
        return 0

    def get_max_num(self, request, obj=None, **kwargs):
        return max(len(current_locales()), obj.translations.count() if obj else 0)

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


class NodeAdmin(RevisionViews, ServiceAdmin):
    """Nodes of one kind (``kind``), or of every kind no wrapper module owns (``kind = None``).

    Every write is one call to a hook (``create_node``, ``patch_node``,
    ``transition_node``, ``schedule_node``, ``delete_node``); this base calls
    content's services, the posts' and the pages' admins their module's.
    """

    kind: str | None = None
    change_form_template = "admin/content/node/change_form.html"
    change_list_template = "admin/content/node/change_list.html"

    form = NodeForm
    inlines = [TranslationInline]
    # Few, narrow columns: the list fits a 1280 px window with the admin's sidebars open.
    # The title cell links to the change form and carries the languages and the preview.
    list_display = [
        "title",
        "kind",
        "status_badge",
        "author_name",
        "category_name",
        "updated",
    ]
    list_display_links = None
    list_filter = [
        "kind",
        "status",
        ScheduledFilter,
        "category",
        "tags",
        ("author", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["author", f"author__{people.PROFILE}", "category"]
    list_per_page = 50
    search_fields = ["translations__title", "translations__slug"]
    search_help_text = gettext_lazy("Title or slug in any language, or a node id.")
    ordering = ["-updated_at"]
    autocomplete_fields = ["parent", "tags", "og_image"]
    main_fields: tuple[str, ...] = ("category", "tags", "parent", "position")
    actions = [
        *(transition_action(transition) for transition in NODE_TRANSITIONS.by_action.values()),
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
        else:
            queryset = queryset.exclude(kind__in=WRAPPER_KINDS)
        default_locale = current_locales()[0]
        titles = NodeTranslation.objects.filter(node=OuterRef("pk"))
        return queryset.annotate(
            admin_title=Coalesce(
                Subquery(titles.filter(locale=default_locale).values("title")[:1]),
                Subquery(titles.order_by("locale").values("title")[:1]),
            )
        ).prefetch_related(
            # The locales column and ``str(node)`` (the action checkboxes' labels) read these.
            Prefetch(
                "translations",
                queryset=NodeTranslation.objects.only("id", "node_id", "locale", "title").order_by(
                    "locale"
                ),
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

    @admin.display(description=gettext_lazy("title"), ordering="admin_title")
    def title(self, obj: Node):
        title = self.display_name(obj)
        return format_html(
            '<a class="list-title" href="{}" title="{}">{}</a>'
            '<div class="list-meta">{} · <a href="{}" target="_blank" rel="noopener">{}</a></div>',
            self.url("change", obj.pk),
            title,
            Truncator(title).chars(TITLE_CHARS),
            self.locales(obj),
            PREVIEW_PATH.format(obj.pk),
            gettext("Preview"),
        )

    @admin.display(description=gettext_lazy("languages"))
    def locales(self, obj: Node) -> str:
        return " ".join(translation.locale for translation in obj.translations.all())

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj: Node):
        """The status, and below it when it is due (a scheduled draft) or was published."""
        badge = format_html(
            '<span class="content-badge {}">{}</span>',
            STATUS_COLORS.get(obj.status, ""),
            obj.get_status_display(),
        )
        if obj.status == NodeStatus.DRAFT and obj.publish_at is not None:
            return format_html("{}<div>{}</div>", badge, self.schedule(obj))
        if obj.status == NodeStatus.PUBLISHED and obj.published_at is not None:
            return format_html("{}<div>{}</div>", badge, short_date(obj.published_at))
        return badge

    @admin.display(description=gettext_lazy("schedule"), ordering="publish_at")
    def schedule(self, obj: Node):
        if obj.publish_at is None or obj.status != NodeStatus.DRAFT:
            return "-"
        when = timezone.localtime(obj.publish_at)
        overdue = obj.publish_at <= timezone.now()
        return format_html(
            '<span class="content-badge content-badge--scheduled{}" title="{}">{}</span>',
            " content-badge--overdue" if overdue else "",
            date_format(when, "DATETIME_FORMAT"),
            (gettext("due %(when)s") if overdue else gettext("scheduled %(when)s"))
            % {"when": date_format(when, "SHORT_DATE_FORMAT")},
        )

    @admin.display(description=gettext_lazy("author"), ordering="author__username")
    def author_name(self, obj: Node) -> str:
        """The author's public name, else their login (editors know each other's logins)."""
        if obj.author is None:
            return "-"
        name = people.display_name(obj.author) or obj.author.get_username()
        return truncated(name, NAME_CHARS)

    @admin.display(description=gettext_lazy("category"), ordering="category__name")
    def category_name(self, obj: Node) -> str:
        return truncated(obj.category.name, NAME_CHARS) if obj.category else "-"

    @admin.display(description=gettext_lazy("updated"), ordering="updated_at")
    def updated(self, obj: Node):
        return short_date(obj.updated_at)

    @admin.display(description=gettext_lazy("see also"))
    def links(self, obj: Node):
        if obj.pk is None or obj._state.adding:
            return "-"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a> · <a href="{}">{}</a>',
            PREVIEW_PATH.format(obj.pk),
            gettext("Preview"),
            self.url("revisions", obj.pk),
            gettext("Revisions"),
        )

    # -- the change form

    def get_fieldsets(self, request, obj=None):
        main = list(self.main_fields)
        if obj is None and not self.kind:
            main = ["kind", *main]
        fieldsets = [
            (None, {"fields": main}),
            (gettext("Publishing"), {"fields": ["publish_at"]}),
            (gettext("SEO"), {"fields": ["canonical_url", "og_image"], "classes": ["collapse"]}),
            (gettext("Advanced"), {"fields": ["metadata"], "classes": ["collapse"]}),
        ]
        if obj is not None:
            fieldsets.insert(1, (gettext("Record"), {"fields": self.record_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = list(self.record_fields)
        if obj.status != NodeStatus.DRAFT:
            readonly.append("publish_at")  # only drafts can be scheduled
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        if "kind" in form_class.base_fields:
            # Chosen, never typed: the kinds in use that no wrapper module owns.
            kinds = [kind for kind in selectors.node_kinds() if kind not in WRAPPER_KINDS]
            form_class.base_fields["kind"] = forms.ChoiceField(
                choices=[(kind, kind) for kind in kinds], help_text=gettext("What this is.")
            )
        return form_class

    def change_view(self, request, object_id, form_url="", extra_context=None):
        node = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if node is not None:
            extra.setdefault("subtitle", self.display_name(node))
            extra["preview_url"] = PREVIEW_PATH.format(node.pk)
            extra["revisions_url"] = self.url("revisions", node.pk)
            if self.has_change_permission(request, node):
                extra["transitions"] = [
                    (transition, self.url("transition", node.pk, transition.action))
                    for transition in NODE_TRANSITIONS.available(node.status)
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
        node = self.create_node(
            request,
            services.NodeInput(
                kind=self.kind or data["kind"],
                translations=[_translation_input(f.cleaned_data) for f in kept],
                parent_id=data["parent"].pk if data.get("parent") else None,
                position=data.get("position") or 0,
                category_id=data["category"].pk if data.get("category") else None,
                tag_ids=[tag.pk for tag in data.get("tags") or []],
                metadata=data.get("metadata") or {},
                publish_at=data.get("publish_at"),
                canonical_url=data.get("canonical_url") or "",
                og_image_id=data["og_image"].pk if data.get("og_image") else None,
            ),
        )
        adopt(form.instance, node)
        translations.new_objects = [f.instance for f in kept]

    def _save_change(self, request, form, translations) -> None:
        """The node's fields, its schedule and its translations: one service call."""
        data = form.cleaned_data
        references = {"parent": "parent_id", "category": "category_id", "og_image": "og_image_id"}
        fields: dict[str, Any] = {}
        for name in form.changed_data:
            if name in references:
                fields[references[name]] = data[name].pk if data.get(name) else None
            elif name == "tags":
                fields["tag_ids"] = [tag.pk for tag in data.get("tags") or []]
            elif name in ("position", "metadata", "canonical_url", "publish_at"):
                fields[name] = data.get(name)
        changed_translations: dict[str, dict[str, Any]] = {}
        delete_locales: list[str] = []
        deleted = [f for f in translations.deleted_forms if f.instance.pk]
        for translation_form in translations.forms:
            if translation_form in translations.deleted_forms or not translation_form.has_changed():
                continue
            translation = _translation_input(translation_form.cleaned_data)
            changed_translations[translation.locale] = {
                name: getattr(translation, name) for name in services.TRANSLATION_FIELDS
            }
            previous = translation_form.instance.locale if translation_form.instance.pk else None
            if previous is not None and previous != translation.locale:
                deleted.append(translation_form)  # the locale itself was changed: move, not copy
        for translation_form in deleted:
            delete_locales.append(
                translation_form.initial.get("locale") or translation_form.instance.locale
            )
        self.patch_node(
            request,
            form.instance.pk,
            fields=fields,
            translations=changed_translations,
            delete_locales=delete_locales,
        )
        # The titles read with the node are stale now: the admin logs ``str(node)`` next.
        getattr(form.instance, "_prefetched_objects_cache", {}).pop("translations", None)
        rows = {row.locale: row for row in selectors.node_translations(form.instance.pk)}
        for translation_form in translations.forms:
            locale = (
                translation_form.cleaned_data.get("locale")
                if translation_form.cleaned_data
                else None
            )
            if locale not in changed_translations or locale not in rows:
                continue
            if translation_form.instance.pk:
                translations.changed_objects.append((rows[locale], translation_form.changed_data))
            else:
                translations.new_objects.append(rows[locale])
        translations.deleted_objects = [f.instance for f in deleted]

    def delete_model(self, request, obj):
        self.delete_node(request, obj.pk)

    def rejection(self, error):
        if isinstance(error, ContentInvalid):
            return _split_errors(error.errors)
        if isinstance(error, InvalidTransition):
            return ServiceRejected(errors={"publish_at": error.detail})
        return super().rejection(error)

    # -- writes: one service call each (the posts' and pages' admins call their module's)

    def create_node(self, request, data: services.NodeInput) -> Node:
        return services.node_create(data=data, actor=request.user)

    def patch_node(self, request, node_id, *, fields, translations, delete_locales) -> None:
        services.node_patch(
            node_id=node_id,
            fields=fields,
            translations=translations,
            delete_locales=delete_locales,
            actor=request.user,
        )

    def transition_node(self, request, node_id, action: str) -> None:
        services.node_transition(node_id=node_id, action=action, actor=request.user)

    def schedule_node(self, request, node_id, publish_at: datetime | None) -> None:
        services.node_schedule(node_id=node_id, publish_at=publish_at, actor=request.user)

    def delete_node(self, request, node_id) -> None:
        services.node_delete(node_id=node_id, actor=request.user)

    # -- bulk actions

    def take_transition(self, request, obj, transition: Transition) -> None:
        self.transition_node(request, obj.pk, transition.action)

    @admin.action(
        permissions=["change"], description=gettext_lazy("Schedule publication of selected drafts…")
    )
    def schedule_selected(self, request, queryset):
        form = ScheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._schedule_many(request, queryset, form.cleaned_data["publish_at"])
            return None
        nodes = list(queryset.order_by("pk"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Schedule publication"),
            "opts": self.opts,
            "form": form,
            "nodes": [(node, self.display_name(node)) for node in nodes],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/schedule.html", context)

    @admin.action(permissions=["change"], description=gettext_lazy("Cancel scheduled publication"))
    def unschedule_selected(self, request, queryset):
        scheduled = queryset.filter(publish_at__isnull=False)
        self._schedule_many(request, scheduled, None)
        skipped = queryset.count() - scheduled.count()
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected item had no schedule.",
                    "%(count)d selected items had no schedule.",
                    skipped,
                )
                % {"count": skipped},
                messages.INFO,
            )

    def _schedule_many(self, request, queryset, publish_at: datetime | None) -> None:
        done, refused = [], []
        for node in queryset.order_by("pk"):
            try:
                self.schedule_node(request, node.pk, publish_at)
            except PlatformError as error:
                refused.append((self.display_name(node), error))
            else:
                done.append(node)
        if done:
            values = {
                "count": len(done),
                "items": self.plural(len(done)),
                "names": names(done, self.display_name),
            }
            if publish_at is None:
                message = gettext("%(count)d %(items)s unscheduled: %(names)s.") % values
            else:
                when = date_format(timezone.localtime(publish_at), "DATETIME_FORMAT")
                message = gettext("%(count)d %(items)s scheduled for %(when)s: %(names)s.") % {
                    **values,
                    "when": when,
                }
            self.message_user(request, message, messages.SUCCESS)
        if publish_at is None:
            one = gettext("“%(name)s” was not unscheduled")
            more = gettext("… and %(count)d more were not unscheduled.")
        else:
            one = gettext("“%(name)s” was not scheduled")
            more = gettext("… and %(count)d more were not scheduled.")
        self.report_refusals(request, refused, one=one, more=more)

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

    def transition_view(self, request, object_id, name: str):
        node = self._node_or_404(request, object_id)
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        transition = NODE_TRANSITIONS.get(name)
        if transition is None:
            raise Http404("No such transition.")
        self.transition_many(request, self.get_queryset(request).filter(pk=node.pk), transition)
        return HttpResponseRedirect(self.url("change", node.pk))


class ScheduleForm(forms.Form):
    publish_at = forms.SplitDateTimeField(
        label=gettext_lazy("Publish at"),
        widget=AdminSplitDateTime,
        help_text=gettext_lazy("Date and time (UTC) at which the selected drafts are published."),
    )

    def clean_publish_at(self):
        publish_at = self.cleaned_data["publish_at"]
        if publish_at <= timezone.now():
            raise forms.ValidationError(gettext("Must be in the future."))
        return publish_at


@admin.register(Node)
class ContentAdmin(NodeAdmin):
    """Content of the kinds no wrapper module owns (posts and pages have their own entries)."""
