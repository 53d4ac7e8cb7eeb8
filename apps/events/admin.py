"""The outbox and its troubles in the operators' admin: inspect, replay, requeue, discard.

Everything here is read-only; the actions go through ``services``, as the
management commands do. Rows are shown as stored, whatever their shape: a
payload is any JSON value, and the pages must render it without failing.
"""

from __future__ import annotations

import uuid

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.db.models import F, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext

from apps.core.admin import ReadOnly, pretty_json
from apps.tenancy.admin import platform_admin_site

from . import services
from .models import Delivery, DeliveryStatus, OutboxEvent
from .schema import known_event_types

DISCARD_LISTED = 100
# How much of an aggregate id the outbox list shows: enough to tell ids apart at a glance.
SHORT_ID_CHARS = 9


def preformatted(text: str):
    return format_html("<pre>{}</pre>", text) if text else "-"


def has_model_permission(request, opts, action: str) -> bool:
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """Operators look; only the actions, through the services, change anything."""

    def change_url(self, model, pk) -> str:
        opts = model._meta
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
            args=[pk],
            current_app=self.admin_site.name,
        )

    def changelist_url(self, model, **params) -> str:
        opts = model._meta
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        return f"{url}?{urlencode(params)}" if params else url


class EventTypeFilter(admin.SimpleListFilter):
    """Choices from the event catalogue: no scan of the outbox for distinct types."""

    title = gettext_lazy("event type")
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(event_type, event_type) for event_type in known_event_types()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(event_type=self.value())
        return queryset


class GuardedChangeList(ChangeList):
    """Refuses NUL characters in filters up front (the admin's "?e=1" page).

    PostgreSQL rejects them only when the page renders, which would be a 500.
    """

    def get_queryset(self, request, exclude_parameters=None):
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            raise IncorrectLookupParameters("NUL character in the query string")
        return super().get_queryset(request, exclude_parameters)


class OutboxChangeList(GuardedChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        # The list shows none of the JSON columns; payloads can be large.
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.defer("payload", "actor", "trace_context")


@admin.register(OutboxEvent, site=platform_admin_site)
class OutboxEventAdmin(ReadOnlyAdmin):
    # Few, narrow columns (the list fits a 1280 px window with the admin's sidebars open):
    # the aggregate's id is cut (whole in ``title=``), the dispatch is its delay.
    list_display = [
        "position",
        "event_type_breakable",
        "tenant_slug",
        "aggregate_short",
        "occurred",
        "status_and_dispatch",
    ]
    list_select_related = ["tenant"]
    list_filter = ["tenant", EventTypeFilter, "status"]
    search_fields = ["=event_id", "=aggregate_id", "=correlation_id"]
    search_help_text = gettext_lazy("An event id, an aggregate id or a correlation id (exact).")
    # The outbox is large: no COUNT(*) of all of it, nor one per filter choice.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ["replay"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "position",
                    "event_id",
                    "event_type",
                    "schema_version",
                    "tenant_slug",
                    "schema_name",
                    "aggregate",
                    "aggregate_version",
                    "occurred_at",
                ]
            },
        ),
        (gettext_lazy("Payload"), {"fields": ["payload_json"]}),
        (
            gettext_lazy("Context"),
            {
                "fields": [
                    "actor_json",
                    "correlation",
                    "causation_id",
                    "trace_context_json",
                ]
            },
        ),
        (
            gettext_lazy("Relay"),
            {
                "fields": [
                    "status",
                    "claims",
                    "lease_owner",
                    "lease_expires_at",
                    "dispatched_at",
                    "troubles",
                ]
            },
        ),
    ]
    readonly_fields = [
        "tenant_slug",
        "aggregate",
        "payload_json",
        "actor_json",
        "correlation",
        "trace_context_json",
        "troubles",
    ]

    def get_changelist(self, request, **kwargs):
        return OutboxChangeList

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only: ids are pasted whole, and the outbox is too large for ILIKE."""
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(aggregate_id=term) | Q(correlation_id=term)
        try:
            as_uuid = uuid.UUID(term)
        except ValueError:
            pass
        else:
            canonical = str(as_uuid)
            matches |= Q(event_id=as_uuid) | Q(aggregate_id=canonical)
            matches |= Q(correlation_id=canonical)
        return queryset.filter(matches), False

    @admin.display(description=gettext_lazy("tenant"), ordering="tenant__slug")
    def tenant_slug(self, obj: OutboxEvent) -> str:
        return obj.tenant.slug

    @admin.display(description=gettext_lazy("aggregate"))
    def aggregate(self, obj: OutboxEvent):
        url = self.changelist_url(
            OutboxEvent,
            tenant__id__exact=obj.tenant_id,
            aggregate_type=obj.aggregate_type,
            aggregate_id=obj.aggregate_id,
        )
        return format_html(
            '<a href="{}" title="{}">{} {}</a>',
            url,
            gettext("every event of this aggregate"),
            obj.aggregate_type,
            obj.aggregate_id,
        )

    @admin.display(description=gettext_lazy("aggregate"))
    def aggregate_short(self, obj: OutboxEvent):
        url = self.changelist_url(
            OutboxEvent,
            tenant__id__exact=obj.tenant_id,
            aggregate_type=obj.aggregate_type,
            aggregate_id=obj.aggregate_id,
        )
        version = f" v{obj.aggregate_version}" if obj.aggregate_version is not None else ""
        return format_html(
            '<a href="{}" title="{} {}{} ({})">{} <span class="list-code">{}</span>{}</a>',
            url,
            obj.aggregate_type,
            obj.aggregate_id,
            version,
            gettext("every event of this aggregate"),
            obj.aggregate_type,
            Truncator(obj.aggregate_id).chars(SHORT_ID_CHARS),
            version,
        )

    @admin.display(description=gettext_lazy("event type"), ordering="event_type")
    def event_type_breakable(self, obj: OutboxEvent):
        """The type, free to wrap after each dot (``content.node.`` / ``unpublished``)."""
        return format_html_join(
            mark_safe(".<wbr>"), "{}", ((part,) for part in obj.event_type.split("."))
        )

    @admin.display(description=gettext_lazy("occurred"), ordering="occurred_at")
    def occurred(self, obj: OutboxEvent):
        when = timezone.localtime(obj.occurred_at)
        return format_html(
            '<time datetime="{}" title="{}"><span class="nowrap">{}</span> '
            '<span class="nowrap">{}</span></time>',
            when.isoformat(),
            date_format(when, "DATETIME_FORMAT"),
            date_format(when, "SHORT_DATE_FORMAT"),
            date_format(when, "TIME_FORMAT"),
        )

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_and_dispatch(self, obj: OutboxEvent):
        """The status, and how long after it occurred the event was dispatched (the time itself
        when pointed at)."""
        if obj.dispatched_at is None:
            return obj.get_status_display()
        delay = max((obj.dispatched_at - obj.occurred_at).total_seconds(), 0.0)
        return format_html(
            '{}<div class="list-meta nowrap" title="{}">{}</div>',
            obj.get_status_display(),
            date_format(timezone.localtime(obj.dispatched_at), "DATETIME_FORMAT"),
            gettext("after %(seconds)s s") % {"seconds": f"{delay:.1f}"},
        )

    @admin.display(description=gettext_lazy("payload"))
    def payload_json(self, obj: OutboxEvent):
        return pretty_json(obj.payload)

    @admin.display(description=gettext_lazy("actor"))
    def actor_json(self, obj: OutboxEvent):
        return pretty_json(obj.actor)

    @admin.display(description=gettext_lazy("trace context"))
    def trace_context_json(self, obj: OutboxEvent):
        return pretty_json(obj.trace_context)

    @admin.display(description=gettext_lazy("correlation id"))
    def correlation(self, obj: OutboxEvent):
        url = self.changelist_url(OutboxEvent, q=obj.correlation_id)
        return format_html(
            '<a href="{}" title="{}">{}</a>',
            url,
            gettext("every event of this correlation"),
            obj.correlation_id,
        )

    @admin.display(description=gettext_lazy("failed or held-back deliveries"))
    def troubles(self, obj: OutboxEvent):
        rows = list(obj.deliveries.order_by("handler").values_list("pk", "handler", "status"))
        if not rows:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}">{} ({})</a>',
            ((self.change_url(Delivery, pk), handler, status) for pk, handler, status in rows),
        )

    def has_replay_permission(self, request) -> bool:
        return has_model_permission(request, self.opts, "change")

    @admin.action(description=gettext_lazy("Replay selected events"), permissions=["replay"])
    def replay(self, request, queryset):
        positions = list(queryset.values_list("position", flat=True))
        count = services.events_replay(positions=positions)
        self.message_user(
            request,
            ngettext(
                "Requeued %(count)d event for the relay. Subscribers that already "
                "processed it skip it.",
                "Requeued %(count)d events for the relay. Subscribers that already "
                "processed them skip them.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Delivery, site=platform_admin_site)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "handler",
        "event_type",
        "tenant_slug",
        "aggregate",
        "status",
        "attempts",
        "available_at",
        "short_error",
    ]
    list_display_links = ["id", "handler"]
    list_select_related = ["tenant"]
    list_filter = ["status", "handler", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=aggregate_id"]
    search_help_text = gettext_lazy("An aggregate id (exact).")
    actions = ["requeue", "discard"]
    fields = [
        "event_link",
        "event_type",
        "handler",
        "tenant_slug",
        "aggregate",
        "position",
        "status",
        "attempts",
        "available_at",
        "lease_owner",
        "lease_expires_at",
        "created_at",
        "updated_at",
        "last_error_text",
        "last_traceback_text",
        "payload_json",
    ]
    readonly_fields = [
        "event_link",
        "event_type",
        "tenant_slug",
        "aggregate",
        "last_error_text",
        "last_traceback_text",
        "payload_json",
    ]

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(event_type=F("event__event_type"))

    @admin.display(description=gettext_lazy("event type"), ordering="event__event_type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event_type

    @admin.display(description=gettext_lazy("tenant"), ordering="tenant__slug")
    def tenant_slug(self, obj: Delivery) -> str:
        return obj.tenant.slug

    @admin.display(description=gettext_lazy("aggregate"))
    def aggregate(self, obj: Delivery) -> str:
        return f"{obj.aggregate_type} {obj.aggregate_id}"

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, obj: Delivery) -> str:
        return Truncator(" ".join(obj.last_error.split())).chars(100)

    @admin.display(description=gettext_lazy("event"))
    def event_link(self, obj: Delivery):
        return format_html(
            '<a href="{}">#{}</a>', self.change_url(OutboxEvent, obj.event_id), obj.event_id
        )

    @admin.display(description=gettext_lazy("last error"))
    def last_error_text(self, obj: Delivery):
        return preformatted(obj.last_error)

    @admin.display(description=gettext_lazy("last traceback"))
    def last_traceback_text(self, obj: Delivery):
        return preformatted(obj.last_traceback)

    @admin.display(description=gettext_lazy("event payload"))
    def payload_json(self, obj: Delivery):
        return pretty_json(obj.event.payload)

    def has_requeue_permission(self, request) -> bool:
        return has_model_permission(request, self.opts, "change")

    def has_discard_permission(self, request) -> bool:
        return has_model_permission(request, self.opts, "delete")

    @admin.action(description=gettext_lazy("Retry now / replay"), permissions=["requeue"])
    def requeue(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = services.deliveries_requeue(
            ids=ids, statuses=(DeliveryStatus.DEAD, DeliveryStatus.RETRY)
        )
        self.message_user(
            request,
            ngettext(
                "Requeued %(count)d delivery, due now.",
                "Requeued %(count)d deliveries, due now.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        skipped = len(ids) - count
        if skipped > 0:
            self.message_user(
                request,
                ngettext(
                    "Skipped %(count)d held-back delivery: it follows the failure "
                    "ahead of it in its aggregate.",
                    "Skipped %(count)d held-back deliveries: they follow the failure "
                    "ahead of them in their aggregate.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("Discard"), permissions=["discard"])
    def discard(self, request, queryset):
        if request.POST.get("post") == "yes":
            count = services.deliveries_discard(ids=list(queryset.values_list("pk", flat=True)))
            self.message_user(
                request,
                ngettext("Discarded %(count)d delivery.", "Discarded %(count)d deliveries.", count)
                % {"count": count},
                messages.SUCCESS,
            )
            return None
        rows = list(queryset.select_related("tenant"))
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Discard deliveries?"),
            "opts": self.opts,
            "rows": rows[:DISCARD_LISTED],
            "more": max(0, len(rows) - DISCARD_LISTED),
            "ids": [row.pk for row in rows],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/events/delivery/discard_confirmation.html", context)
