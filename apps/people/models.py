from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_lazy

DISPLAY_NAME_MAX = 100


class Profile(models.Model):
    """What a tenant's user shows the public. A user without a row has given no display name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=gettext_lazy("user"),
    )
    display_name = models.CharField(
        gettext_lazy("display name"), max_length=DISPLAY_NAME_MAX, blank=True
    )
    # The aggregate version of the profile's events.
    version = models.PositiveIntegerField(default=0, verbose_name=gettext_lazy("version"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        verbose_name = gettext_lazy("profile")
        verbose_name_plural = gettext_lazy("profiles")
        constraints = [
            # The service trims; the table refuses what would bypass it.
            models.CheckConstraint(
                condition=~models.Q(display_name__regex=r"^\s|\s$"),
                name="people_profile_display_name_trimmed",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or gettext("(no display name)")


# -- customers -------------------------------------------------------------------------------

ADDRESS_TEXT_MAX = 255
ADDRESS_SHORT_MAX = 64


class Address(models.Model):
    """An address in a customer's address book (written by ``services.address_*`` only).

    ``country`` is an ISO 3166-1 alpha-2 code; ``region`` the country's own subdivision code
    where it has one (a US state: "NY"); both and the postal code are normalised by
    ``services.address_clean``. A customer has at most one default (shipping) address.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="addresses",
        verbose_name=gettext_lazy("user"),
    )
    name = models.CharField(gettext_lazy("name"), max_length=ADDRESS_TEXT_MAX)
    company = models.CharField(gettext_lazy("company"), max_length=ADDRESS_TEXT_MAX, blank=True)
    street = models.CharField(gettext_lazy("street"), max_length=ADDRESS_TEXT_MAX)
    street2 = models.CharField(
        gettext_lazy("street (second line)"), max_length=ADDRESS_TEXT_MAX, blank=True
    )
    city = models.CharField(gettext_lazy("city"), max_length=ADDRESS_TEXT_MAX, blank=True)
    postal_code = models.CharField(
        gettext_lazy("postal code"), max_length=ADDRESS_SHORT_MAX, blank=True
    )
    region = models.CharField(gettext_lazy("region"), max_length=ADDRESS_TEXT_MAX, blank=True)
    country = models.CharField(gettext_lazy("country"), max_length=2)
    phone = models.CharField(gettext_lazy("phone"), max_length=ADDRESS_SHORT_MAX, blank=True)
    is_default = models.BooleanField(gettext_lazy("default shipping address"), default=False)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=gettext_lazy("updated at"))

    class Meta:
        verbose_name = gettext_lazy("address")
        verbose_name_plural = gettext_lazy("addresses")
        ordering = ["-is_default", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="people_address_one_default",
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"),
                name="people_address_country_alpha2",
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.name, self.city, self.country) if part)
