"""The storefront's account forms. They check what a form can (the fields, two passwords
alike); the people module's services decide the rest, and their field errors are put back
on the form (``add_errors``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy

from apps.people import selectors as people
from apps.people import services as people_services
from apps.people.errors import AddressInvalid

# One message whether the email is unknown or the password wrong: no account enumeration.
WRONG_CREDENTIALS = gettext_lazy("The email or the password is not right.")


def add_errors(form: forms.Form, errors: dict[str, str]) -> None:
    """A service's field errors on ``form`` (on the form itself for a field it lacks)."""
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)


class LoginForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254)
    password = forms.CharField(
        label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput
    )

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", autofocus=True)
        self.fields["password"].widget.attrs.update(autocomplete="current-password")

    def account(self) -> str:
        """The login email as the accounts store it (what the per-account limit counts)."""
        return people_services.normalise_email(self.data.get("email"))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = authenticate(self.request, username=self.account(), password=cleaned["password"])
        if user is None or not user.is_active:
            raise forms.ValidationError(WRONG_CREDENTIALS, code="invalid_login")
        self.user = user
        return cleaned


class SignUpForm(forms.Form):
    display_name = forms.CharField(
        label=gettext_lazy("Your name on the site"),
        help_text=gettext_lazy("Shown on your reviews and posts. Your email is never shown."),
    )
    email = forms.CharField(label=gettext_lazy("Email"), max_length=254)
    password = forms.CharField(
        label=gettext_lazy("Password"), strip=False, widget=forms.PasswordInput
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password again"), strip=False, widget=forms.PasswordInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="email", type="email")
        self.fields["display_name"].widget.attrs.update(autocomplete="nickname")
        for name in ("password", "password_again"):
            self.fields[name].widget.attrs.update(autocomplete="new-password")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", gettext_lazy("The two passwords differ."))
        return cleaned


class AddressForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Full name"))
    company = forms.CharField(label=gettext_lazy("Company"), required=False)
    street = forms.CharField(label=gettext_lazy("Street and house number"))
    street2 = forms.CharField(label=gettext_lazy("Address line 2"), required=False)
    postal_code = forms.CharField(label=gettext_lazy("Postal code"), required=False)
    city = forms.CharField(label=gettext_lazy("City"), required=False)
    region = forms.CharField(label=gettext_lazy("State, province or region"), required=False)
    country = forms.ChoiceField(label=gettext_lazy("Country"))
    phone = forms.CharField(label=gettext_lazy("Phone"), required=False)
    make_default = forms.BooleanField(
        label=gettext_lazy("Use as my default shipping address"), required=False
    )

    def __init__(self, *args, locale: str, adding: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not adding:  # an existing address becomes the default with its own button
            del self.fields["make_default"]
        self.fields["country"].choices = [("", "—"), *people.countries(locale)]
        autocomplete = {
            "name": "name",
            "company": "organization",
            "street": "address-line1",
            "street2": "address-line2",
            "postal_code": "postal-code",
            "city": "address-level2",
            "region": "address-level1",
            "country": "country",
            "phone": "tel",
        }
        for field, token in autocomplete.items():
            self.fields[field].widget.attrs["autocomplete"] = token

    def clean(self):
        """The one address check of the shop (``people.services.address_clean``)."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            return {**cleaned, **people_services.address_clean(cleaned)}
        except AddressInvalid as invalid:
            add_errors(self, invalid.errors)
            return cleaned
