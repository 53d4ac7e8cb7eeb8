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
