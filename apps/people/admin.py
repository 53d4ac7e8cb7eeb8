"""The tenant's user admin, with the person's display name on the change page.

The display name and the first and last name (what the public may see) are
written by ``services.profile_update``, which announces the change; the rest
of the user (login, permissions) is Django's own.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy

from . import services
from .errors import ProfileInvalid
from .models import DISPLAY_NAME_MAX
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
