"""The tenant's user admin, with the person's display name on the change page.

The display name and the first and last name (what the public may see) are
written by ``services.profile_update``, which announces the change; the rest
of the user (login, permissions) is Django's own.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ObjectDoesNotExist
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext

from . import services
from .errors import ApiKeyInvalid, ProfileInvalid
from .models import API_KEY_SCOPES, DISPLAY_NAME_MAX, ApiKey
from .selectors import PROFILE

User = get_user_model()
PUBLIC_NAMES = ("first_name", "last_name")


class PersonChangeForm(UserChangeForm):
    display_name = forms.CharField(
        label=gettext_lazy("Display name"),
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text=gettext_lazy(
            "What readers and customers see, e.g. on posts. Empty: the first and last name."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "display_name" in self.fields:
            with contextlib.suppress(ObjectDoesNotExist):
                self.fields["display_name"].initial = self.instance.profile.display_name

    def clean_display_name(self) -> str:
        try:
            return services.clean_name(
                self.cleaned_data.get("display_name"),
                field="display_name",
                max_length=DISPLAY_NAME_MAX,
            )
        except ProfileInvalid as error:
            raise forms.ValidationError(error.errors["display_name"]) from None


def _with_display_name(fieldsets):
    """Django's fieldsets with the display name after the last name."""
    result = []
    for name, options in fieldsets:
        fields = tuple(options.get("fields", ()))
        if "last_name" in fields:
            at = fields.index("last_name") + 1
            fields = (*fields[:at], "display_name", *fields[at:])
        result.append((name, {**options, "fields": fields}))
    return tuple(result)


class PersonAdmin(UserAdmin):
    form = PersonChangeForm
    fieldsets = _with_display_name(UserAdmin.fieldsets)
    search_fields = (*UserAdmin.search_fields, "profile__display_name")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(PROFILE)

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        # The names go through the service (it compares them with the stored ones).
        wanted = {field: getattr(obj, field) for field in PUBLIC_NAMES}
        stored = User.objects.filter(pk=obj.pk).values(*PUBLIC_NAMES).get()
        for field in PUBLIC_NAMES:
            setattr(obj, field, stored[field])
        super().save_model(request, obj, form, change)
        services.profile_update(
            user_id=obj.pk,
            display_name=form.cleaned_data.get("display_name", ""),
            actor=request.user,
            **wanted,
        )
        for field, value in wanted.items():
            setattr(obj, field, value)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PersonAdmin)


# -- api keys --------------------------------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    """Name, kind, scopes and expiry of a new key; its owner is who makes it."""

    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=[(scope, scope) for scope in API_KEY_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy(
            "A secret key needs at least one; a publishable key takes none (it only reads "
            "the catalogue and the content)."
        ),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "kind", "scopes", "expires_at")

    owner_id: int | None = None

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["name"], data["scopes"] = services.api_key_clean(
                owner_id=self.owner_id,
                name=data.get("name"),
                kind=data.get("kind"),
                scopes=data.get("scopes"),
                expires_at=data.get("expires_at"),
            )
        except ApiKeyInvalid as refused:
            for field, message in refused.errors.items():
                self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """The tenant's API keys: made here (the secret shown once), revoked here, never changed.

    For the tenant's administrators and whoever has ``people.add_apikey``.
    """

    form = ApiKeyForm
    list_display = (
        "name", "prefix", "kind", "scope_list", "owner", "created_at", "last_used_at",
        "expires_at", "revoked_at",
    )  # fmt: skip
    list_filter = ("kind",)
    search_fields = ("name", "prefix")
    readonly_fields = list_display
    actions = ("revoke",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner")

    def get_fields(self, request, obj=None):
        return ApiKeyForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @admin.display(description=gettext_lazy("scopes"))
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes) or "-"

    def _may_manage(self, request) -> bool:
        return request.user.has_perm("people.add_apikey")

    def has_module_permission(self, request) -> bool:
        return self._may_manage(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._may_manage(request)

    def has_add_permission(self, request) -> bool:
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked, never deleted: the list keeps who had which key

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.owner_id = request.user.pk
        return form

    def save_model(self, request, obj, form, change):
        key, secret = services.api_key_create(
            owner_id=request.user.pk,
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data.get("expires_at"),
            actor=request.user,
        )
        obj.pk, obj.prefix, obj.owner_id = key.pk, key.prefix, key.owner_id
        obj._secret = secret  # for response_add, this request only

    def response_add(self, request, obj, post_url_continue=None):
        """The secret on a page of its own, never in a message (messages are stored)."""
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Your new API key"),
            "opts": self.opts,
            "key": obj,
            "secret": obj._secret,
            "changelist_url": reverse("admin:people_apikey_changelist"),
        }
        response = TemplateResponse(request, "admin/people/api_key_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=("add",))
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.api_key_revoke(key_id=key.pk, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d key revoked: it no longer works.",
                "%(count)d keys revoked: they no longer work.",
                len(keys),
            )
            % {"count": len(keys)},
            messages.SUCCESS,
        )
