"""The base of every admin whose writes go through services, shared by all modules.

A change form's save calls services (in ``save_model`` / ``save_related``).
When one refuses (any ``PlatformError``), the whole save is rolled back (the
admin runs it in one transaction) and the form is built again from the same
POST data with the refusal on the field it names (else above the form), as if
the form had found it: nothing is saved and no success is reported. Deletes
and bulk actions call one service per object and report each refusal.

Feature flags, samples and switches (django-waffle) are settings of the
tenant's administrators: their admin pages refuse everyone else, whatever
permissions a group was given, and the admin index does not list them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator, capfirst, format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from waffle.admin import FlagAdmin, SampleAdmin, SwitchAdmin
from waffle.models import Flag, Sample, Switch

from apps.core.errors import PlatformError
from apps.core.transitions import Transition

REJECTED = "_service_admin_rejected"
MESSAGES_LISTED = 20
NAMES_LISTED = 10


def names(objects: list[Any], name: Callable[[Any], str]) -> str:
    """“a”, “b” and 3 more."""
    shown = ", ".join(f"“{name(obj)}”" for obj in objects[:NAMES_LISTED])
    more = len(objects) - NAMES_LISTED
    if more <= 0:
        return shown
    return gettext("%(names)s and %(count)d more") % {"names": shown, "count": more}


@dataclass(eq=False)
class ServiceRejected(Exception):
    """A service refused what a change form sent.

    ``errors`` go on the main form (by field name, else as non-field errors);
    ``translation_errors`` on the inline form of each locale (content's nodes).
    """

    errors: dict[str, str] = field(default_factory=dict)
    translation_errors: dict[str, dict[str, str]] = field(default_factory=dict)


def add_errors(form: forms.BaseForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        form.add_error(name if name in form.fields else None, message)


def alt_field(locale: str) -> str:
    """The name of an image form's alt text field for ``locale``."""
    return f"alt_{locale}"


def alt_text_fields(locales: Iterable[str], *, max_length: int = 300) -> dict[str, forms.Field]:
    """An image form's alt text fields, one per locale."""
    return {
        alt_field(locale): forms.CharField(
            label=gettext("Alt text (%(locale)s)") % {"locale": locale},
            required=False,
            max_length=max_length,
            help_text=gettext_lazy("What the image shows, for readers who cannot see it."),
        )
        for locale in locales
    }


def adopt(instance, saved) -> None:
    """Make the admin's unsaved ``instance`` stand for the row a service created."""
    for model_field in saved._meta.concrete_fields:
        setattr(instance, model_field.attname, getattr(saved, model_field.attname))
    instance._state.adding = False
    instance._state.db = saved._state.db


class ServiceAdmin(admin.ModelAdmin):
    """A ``ModelAdmin`` whose writes are service calls; see the module's docstring."""

    def rejection(self, error: PlatformError) -> ServiceRejected:
        """How a service's refusal shows on the form: field errors when it names fields."""
        errors = getattr(error, "errors", None)
        if isinstance(errors, dict) and errors:
            return ServiceRejected(errors={str(k): str(v) for k, v in errors.items()})
        return ServiceRejected(errors={"__all__": error.detail})

    def response_action(self, request, queryset):
        """A bulk action on a forged selection (ids that are no ids, such as "x" for a UUID
        or an integer key) is refused with a message, as an empty one is, instead of failing."""
        try:
            for value in request.POST.getlist(ACTION_CHECKBOX_NAME):
                self.opts.pk.to_python(value)  # an integer key's filter would raise ValueError
            return super().response_action(request, queryset)
        except ValidationError:
            self.message_user(request, gettext("The selection is not valid."), messages.WARNING)
            return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ServiceRejected, PlatformError) as refused:
            rejected = refused if isinstance(refused, ServiceRejected) else self.rejection(refused)
            if not (rejected.errors or rejected.translation_errors):
                rejected.errors = {"__all__": gettext("The change was refused.")}
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
                add_errors(self, rejected.errors)
                return cleaned_data

        RejectedForm.__name__ = form_class.__name__
        return RejectedForm

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except PlatformError as refused:
            self.message_user(
                request,
                gettext("Not deleted: %(reason)s") % {"reason": refused.detail},
                messages.ERROR,
            )
            return HttpResponseRedirect(self.url("change", object_id))

    def url(self, name: str, *args) -> str:
        """The URL of this admin's view ``name`` (``change``, ``changelist``, ...)."""
        opts = self.opts
        return reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_{name}",
            args=args,
            current_app=self.admin_site.name,
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(
        permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s")
    )
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
                gettext("Deleted %(count)d %(items)s: %(names)s.")
                % {
                    "count": len(deleted),
                    "items": self.plural(len(deleted)),
                    "names": names(deleted, self.display_name),
                },
                messages.SUCCESS,
            )
        self.report_refusals(
            request,
            refused,
            one=gettext("“%(name)s” was not deleted"),
            more=gettext("… and %(count)d more were not deleted."),
        )
        return None

    def display_name(self, obj) -> str:
        return str(obj)

    def plural(self, count: int) -> str:
        return str(self.opts.verbose_name if count == 1 else self.opts.verbose_name_plural)

    def report_refusals(
        self,
        request,
        refused: list[tuple[str, Exception]],
        *,
        one: str,
        more: str,
        values: dict[str, Any] | None = None,
    ) -> None:
        """One message per refusal (``one`` names ``%(name)s``), then how many more (``more``,
        ``%(count)d``); both may name ``values`` too."""
        values = values or {}
        for name, error in refused[:MESSAGES_LISTED]:
            detail = str(getattr(error, "detail", error))
            # A detail that is a sentence of its own follows one; a fragment follows a colon.
            joined = f". {detail}" if detail[:1].isupper() else f": {detail}"
            message = one % {**values, "name": name}
            self.message_user(request, message + joined, messages.ERROR)
        if len(refused) > MESSAGES_LISTED:
            count = len(refused) - MESSAGES_LISTED
            self.message_user(request, more % {**values, "count": count}, messages.ERROR)

    # -- status transitions, derived from the owner's TransitionTable

    def take_transition(self, request, obj, transition: Transition, **options: Any) -> None:
        """Take ``transition`` on ``obj`` through the owner's one transition service
        (``options``: what the action asked for besides, such as a moderator's reason)."""
        raise NotImplementedError

    def transition_many(self, request, queryset, transition: Transition, **options: Any) -> None:
        """Take ``transition`` on each object (in primary-key order), then say what was done
        and what was refused, and why."""
        done, refused = [], []
        for obj in queryset.order_by("pk"):
            try:
                self.take_transition(request, obj, transition, **options)
            except PlatformError as error:
                refused.append((self.display_name(obj), error))
            else:
                done.append(obj)
        if done:
            self.message_user(
                request,
                gettext("%(done)s %(count)d %(items)s: %(names)s.")
                % {
                    "done": capfirst(transition.past),
                    "count": len(done),
                    "items": self.plural(len(done)),
                    "names": names(done, self.display_name),
                },
                messages.SUCCESS,
            )
        self.report_refusals(
            request,
            refused,
            one=gettext("“%(name)s” was not %(done)s"),
            more=gettext("… and %(count)d more were not %(done)s."),
            values={"done": transition.past},
        )


def transition_action(transition: Transition):
    """The bulk action of one transition of a table (``publish_selected``...), for a
    ``ServiceAdmin`` that takes it (``take_transition``)."""

    def act(modeladmin: ServiceAdmin, request, queryset):
        modeladmin.transition_many(request, queryset, transition)

    act.__name__ = f"{transition.action}_selected"
    description = format_lazy(gettext_lazy("{action} selected"), action=transition.label)
    return admin.action(permissions=["change"], description=description)(act)


class AdministratorsOnly:
    """A ``ModelAdmin`` mixin: only the tenant's administrators (superusers) see or touch it.

    Everyone else gets 403 on its pages and no entry in the admin index.
    """

    def _is_administrator(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def has_module_permission(self, request):
        return self._is_administrator(request)

    def has_view_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_add_permission(self, request, *args):
        return self._is_administrator(request)

    def has_change_permission(self, request, obj=None):
        return self._is_administrator(request)

    def has_delete_permission(self, request, obj=None):
        return self._is_administrator(request)


def locale_field(name: str, locale: str) -> str:
    """The form field of ``name`` in ``locale`` (``name_de``)."""
    return f"{name}_{locale}"


class TranslatedNamesForm(forms.ModelForm):
    """A model form with, per other locale, the texts of ``translated`` (field name: max length),
    for a model whose ``translations`` hold them: ``{"de": {"name": "Neuigkeiten"}}``. Its
    ``translations()`` is what the owner's service is given."""

    translated: dict[str, int] = {}
    locales: list[str] = []

    @classmethod
    def for_locales(cls, locales: Iterable[str]) -> type[TranslatedNamesForm]:
        labels = {
            "name": gettext("Name (%(locale)s)"),
            "description": gettext("Description (%(locale)s)"),
        }
        fields = {}
        for locale in locales:
            for name, limit in cls.translated.items():
                fields[locale_field(name, locale)] = forms.CharField(
                    label=labels[name] % {"locale": locale},
                    required=False,
                    max_length=limit,
                    widget=forms.Textarea(attrs={"rows": 3}) if name == "description" else None,
                    help_text=gettext("Empty: readers of this language see the default one."),
                )
        return type(cls.__name__, (cls,), {**fields, "locales": list(locales)})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # (a view-only form has no fields)
            self.fields["slug"].required = False
            self.fields["slug"].help_text = gettext("Empty: made from the name.")
        stored = self.instance.translations or {}
        for locale in self.locales:
            for name in self.translated:
                if locale_field(name, locale) in self.fields:
                    self.fields[locale_field(name, locale)].initial = stored.get(locale, {}).get(
                        name, ""
                    )

    def translations(self) -> dict[str, dict[str, str]]:
        """The texts of each locale where any was given (the service checks them)."""
        found = {}
        for locale in self.locales:
            values = {
                name: self.cleaned_data.get(locale_field(name, locale)) or ""
                for name in self.translated
            }
            if any(values.values()):
                found[locale] = values
        return found


class ReadOnly:
    """Mixed into an admin or an inline that shows rows and writes none: no add, change or
    delete (what changes, changes through actions that call the services)."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# waffle ships no German catalogue: its models', fields' and actions' names (these msgids,
# as waffle spells them) are translated in the project's.
WAFFLE_NAMES = (
    gettext_noop("Flag"),
    gettext_noop("Flags"),
    gettext_noop("Sample"),
    gettext_noop("Samples"),
    gettext_noop("Switch"),
    gettext_noop("Switches"),
    gettext_noop("Name"),
    gettext_noop("The human/computer readable name."),
    gettext_noop("Everyone"),
    gettext_noop(
        "Flip this flag on (Yes) or off (No) for everyone, overriding all other settings. "
        "Leave as Unknown to use normally."
    ),
    gettext_noop("Percent"),
    gettext_noop(
        "A number between 0.0 and 99.9 to indicate a percentage of users for whom this flag "
        "will be active."
    ),
    gettext_noop(
        "A number between 0.0 and 100.0 to indicate a percentage of the time this sample will "
        "be active."
    ),
    gettext_noop("Testing"),
    gettext_noop("Allow this flag to be set for a session for user testing"),
    gettext_noop("Superusers"),
    gettext_noop("Flag always active for superusers?"),
    gettext_noop("Staff"),
    gettext_noop("Flag always active for staff?"),
    gettext_noop("Authenticated"),
    gettext_noop("Flag always active for authenticated users?"),
    gettext_noop("Languages"),
    gettext_noop("Activate this flag for users with one of these languages (comma-separated list)"),
    gettext_noop("Rollout"),
    gettext_noop("Activate roll-out mode?"),
    gettext_noop("Groups"),
    gettext_noop("Activate this flag for these user groups."),
    gettext_noop("Users"),
    gettext_noop("Activate this flag for these users."),
    gettext_noop("Active"),
    gettext_noop("Is this switch active?"),
    gettext_noop("Note"),
    gettext_noop("Note where this Flag is used."),
    gettext_noop("Note where this Switch is used."),
    gettext_noop("Note where this Sample is used."),
    gettext_noop("Created"),
    gettext_noop("Date when this Flag was created."),
    gettext_noop("Date when this Switch was created."),
    gettext_noop("Date when this Sample was created."),
    gettext_noop("Modified"),
    gettext_noop("Date when this Flag was last modified."),
    gettext_noop("Date when this Switch was last modified."),
    gettext_noop("Date when this Sample was last modified."),
    gettext_noop("Enable selected flags for everyone"),
    gettext_noop("Disable selected flags for everyone"),
    gettext_noop("Enable selected switches"),
    gettext_noop("Disable selected switches"),
    gettext_noop("Delete selected"),
)

# Importing waffle.admin (above) registered its pages on ``admin.site`` (the tenants' admin;
# the operators' ``platform_admin_site`` never has them): put them back behind the
# administrators-only check. A flag's users are picked by id (waffle's raw-id widget), never
# from a list of every user of the tenant.
for _model, _waffle_admin in ((Flag, FlagAdmin), (Sample, SampleAdmin), (Switch, SwitchAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(
        _model, type(_waffle_admin.__name__, (AdministratorsOnly, _waffle_admin), {})
    )
# The admin index names waffle's section "django-waffle", which no administrator should need
# to know: call it what it holds.
django_apps.get_app_config("waffle").verbose_name = gettext_lazy("Feature flags")


# -- list columns ------------------------------------------------------------------------


def short_date(moment: datetime | None):
    """A date in few characters, the full date and time when pointed at."""
    if moment is None:
        return "-"
    when = timezone.localtime(moment)
    return format_html(
        '<time class="nowrap" datetime="{}" title="{}">{}</time>',
        when.isoformat(),
        date_format(when, "DATETIME_FORMAT"),
        date_format(when, "SHORT_DATE_FORMAT"),
    )


def truncated(text: str, chars: int):
    """``text`` cut to ``chars`` characters, whole when pointed at."""
    if len(text) <= chars:
        return text
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(chars))


def pretty_json(value: Any):
    """``value`` as indented JSON in a ``<pre>`` (event payloads, actors, trace contexts)."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre class="events-json">{}</pre>', text)
