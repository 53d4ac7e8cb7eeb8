from django.conf import settings
from django.contrib.postgres.fields import ArrayField
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


# -- api keys --------------------------------------------------------------------------------

API_KEY_SCOPES = (
    "content:read", "content:write", "commerce:read", "commerce:write", "events:read",
    "webhooks:read", "webhooks:write", "forum:read", "forum:write",
)  # fmt: skip
API_KEY_NAME_MAX = 100
# What a key starts with, by kind; the random part follows (43 characters of URL-safe base64).
API_KEY_PREFIXES = ("sk_live_", "pk_live_")
API_KEY_MAX_LENGTH = 128


class ApiKeyKind(models.TextChoices):
    SECRET = "secret", gettext_lazy("secret (server to server)")
    PUBLISHABLE = "publishable", gettext_lazy("publishable (safe in a browser)")


class ApiKey(models.Model):
    """A key of the tenant's API, made by a staff user: it acts as its owner, narrowed by its
    scopes (``services.api_key_*`` write it, ``selectors.api_key_for`` finds it).

    The key itself is never stored: ``digest`` is the SHA-256 of the whole key. The key holds
    32 random bytes from ``secrets``, so nothing can be guessed or brute-forced and a fast
    hash (one indexed equality lookup) is right; a slow password hash would only make every
    API request slower. ``prefix`` (kind and the first characters of the random part) is what
    people recognise a key by in the admin and in logs.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        verbose_name=gettext_lazy("owner"),
    )
    name = models.CharField(gettext_lazy("name"), max_length=API_KEY_NAME_MAX)
    kind = models.CharField(gettext_lazy("kind"), max_length=16, choices=ApiKeyKind.choices)
    prefix = models.CharField(gettext_lazy("prefix"), max_length=32, unique=True)
    digest = models.CharField(gettext_lazy("digest"), max_length=64, unique=True)
    scopes = ArrayField(
        models.CharField(max_length=32),
        default=list,
        blank=True,
        verbose_name=gettext_lazy("scopes"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=gettext_lazy("created at"))
    last_used_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("last used at")
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("expires at")
    )
    revoked_at = models.DateTimeField(
        null=True, blank=True, verbose_name=gettext_lazy("revoked at")
    )

    class Meta:
        verbose_name = gettext_lazy("API key")
        verbose_name_plural = gettext_lazy("API keys")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["secret", "publishable"]),
                name="people_apikey_kind_known",
            ),
            # A publishable key's rights are fixed: it has no scopes.
            models.CheckConstraint(
                condition=~models.Q(kind="publishable") | models.Q(scopes=[]),
                name="people_apikey_publishable_unscoped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_publishable(self) -> bool:
        return self.kind == ApiKeyKind.PUBLISHABLE
