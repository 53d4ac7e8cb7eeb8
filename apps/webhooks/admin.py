"""The tenant admin's webhooks: endpoints (the secret shown once), deliveries, redelivery.

Every write goes through ``services``; a disabled endpoint says why in a banner on its
page and in the list, and is enabled again with an action.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext

from . import selectors, services
from .errors import EndpointInvalid, UnsafeUrl
from .models import URL_MAX, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=URL_MAX, assume_scheme="https")
    event_types = forms.CharField(
        label=gettext_lazy("Event types"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "One per line: a type (commerce.order.placed), a prefix (commerce.*) or * for all."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("description", "url", "event_types", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["event_types"] = "\n".join(self.instance.event_types)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        lines = data["event_types"].replace(",", "\n").splitlines()
        data["event_types"] = [line.strip() for line in lines if line.strip()]
        try:
            data.update(
                services.endpoint_clean(
                    url=data.get("url"),
                    event_types=data["event_types"],
                    description=data.get("description"),
                )
            )
        except EndpointInvalid as refused:
            for field, message in refused.errors.items():
                self.add_error(field if field in self.fields else None, message)
        except UnsafeUrl as refused:
            self.add_error("url", str(refused.detail))
        return data


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = readonly_fields = (
        "number", "started_at", "status_code", "latency_ms", "error", "response_excerpt",
    )  # fmt: skip
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("__str__", "url", "event_type_list", "is_active", "disabled_reason")
    list_filter = ("is_active",)
    search_fields = ("description", "url")
    actions = ("enable", "rotate_secret")
    readonly_fields = ("disabled_reason", "disabled_at", "consecutive_failures", "created_at")

    @admin.display(description=gettext_lazy("event types"))
    def event_type_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)

    def get_fields(self, request, obj=None):
        fields = EndpointForm.Meta.fields
        return fields if obj is None else (*fields, *self.readonly_fields)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":  # not again on an action's POST (it redirects here)
            disabled = selectors.endpoints().filter(is_active=False).exclude(disabled_reason="")
            for endpoint in disabled:
                messages.warning(request, _disabled_message(endpoint))
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        endpoint = (
            selectors.endpoints().filter(pk=object_id).first() if object_id.isdigit() else None
        )
        disabled = endpoint is not None and not endpoint.is_active and endpoint.disabled_reason
        if disabled and request.method == "GET":
            messages.warning(request, _disabled_message(endpoint))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            endpoint, secret = services.endpoint_create(
                url=data["url"], event_types=data["event_types"],
                description=data["description"], is_active=data["is_active"],
            )  # fmt: skip
            obj.pk = endpoint.pk
            obj._secret = secret  # for response_add, this request only
            return
        services.endpoint_update(
            endpoint_id=obj.pk, url=data["url"], event_types=data["event_types"],
            description=data["description"], is_active=data["is_active"],
        )  # fmt: skip

    def response_add(self, request, obj, post_url_continue=None):
        return _secret_page(self, request, obj, obj._secret)

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for endpoint_id in queryset.values_list("pk", flat=True):
            services.endpoint_delete(endpoint_id=endpoint_id)

    @admin.action(
        description=gettext_lazy("Enable the selected endpoints"), permissions=("change",)
    )
    def enable(self, request, queryset):
        ids = list(queryset.filter(is_active=False).values_list("pk", flat=True))
        for endpoint_id in ids:
            services.endpoint_enable(endpoint_id=endpoint_id)
        self.message_user(
            request,
            ngettext("%(count)d endpoint enabled.", "%(count)d endpoints enabled.", len(ids))
            % {"count": len(ids)},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Rotate the secret"), permissions=("change",))
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choose exactly one endpoint to rotate its secret."),
                messages.ERROR,
            )  # fmt: skip
            return None
        endpoint, secret = services.endpoint_rotate_secret(endpoint_id=queryset.get().pk)
        return _secret_page(self, request, endpoint, secret)


def _disabled_message(endpoint: WebhookEndpoint) -> str:
    return gettext(
        "The endpoint %(name)s is disabled: %(reason)s Enable it again once the receiver works."
    ) % {"name": str(endpoint), "reason": endpoint.disabled_reason}


def _secret_page(model_admin, request, endpoint: WebhookEndpoint, secret: str):
    """The secret on a page of its own, never in a message (messages are stored)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("The endpoint's signing secret"),
        "opts": model_admin.opts,
        "endpoint": endpoint,
        "secret": secret,
        "changelist_url": reverse("admin:webhooks_webhookendpoint_changelist"),
    }
    response = TemplateResponse(request, "admin/webhooks/endpoint_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@admin.register(WebhookDelivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at",
        "created_at",
    )  # fmt: skip
    list_filter = ("status", "endpoint")
    search_fields = ("event_type", "event_id")
    list_select_related = ("endpoint",)
    fields = readonly_fields = (
        "endpoint", "event_type", "event_id", "status", "attempts", "next_attempt_at",
        "last_status_code", "last_error", "delivered_at", "created_at", "payload",
    )  # fmt: skip
    inlines = (AttemptInline,)
    actions = ("redeliver",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_redeliver_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhookendpoint")

    @admin.action(description=gettext_lazy("Deliver again"), permissions=("redeliver",))
    def redeliver(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for delivery_id in ids:
            services.delivery_redeliver(delivery_id=delivery_id)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                len(ids),
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )
