"""What the commerce admins share: a missing object is a 404, refusals reach inline forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import Http404
from django.utils.translation import gettext

from apps.core.admin import REJECTED, ServiceAdmin, ServiceRejected, add_errors


@dataclass(eq=False)
class InlineRejected(ServiceRejected):
    """A refusal that names fields of inline forms: ``form_errors`` by form prefix."""

    form_errors: dict[str, dict[str, str]] = field(default_factory=dict)


class RejectableForm(forms.ModelForm):
    """An inline form that shows the refusals a service gave for it (found by its prefix)."""

    rejected: dict[str, dict[str, str]] = {}

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("DELETE"):
            add_errors(self, self.rejected.get(self.prefix, {}))
        return cleaned_data


def with_rejections(request, form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """``form_class``, carrying the refusals of the request's failed save, if any."""
    rejected = getattr(request, REJECTED, None)
    if not isinstance(rejected, InlineRejected) or not rejected.form_errors:
        return form_class
    return type(form_class.__name__, (form_class,), {"rejected": rejected.form_errors})


class CommerceAdmin(ServiceAdmin):
    """A missing object (another tenant's, a deleted one) is a 404, not a redirect whose
    message repeats the id from the URL."""

    change_list_template = "admin/commerce/change_list.html"
    # One count per list page, not a second one of the whole table.
    show_full_result_count = False
    # A service's error names -> this admin's form fields (others keep their name).
    error_fields: dict[str, str] = {}

    def rejection(self, error):
        rejected = super().rejection(error)
        rejected.errors = {
            self.error_fields.get(name, name): message for name, message in rejected.errors.items()
        }
        return rejected

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(gettext("No such item."))

    def save_related(self, request, form, formsets, change):
        """Nothing: the service called by ``save_model`` wrote the relations too."""


def changed_values(form: forms.BaseForm, names: tuple[str, ...]) -> dict[str, Any]:
    """The cleaned values of the fields among ``names`` that the form changed."""
    return {name: form.cleaned_data.get(name) for name in form.changed_data if name in names}
