"""The content admin of media: uploads and alt text per locale, through content's services."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy

from apps.core.admin import ServiceAdmin, adopt, alt_field, alt_text_fields, short_date, truncated

from .. import services
from ..models import Media
from ..selectors import current_locales

# How much of a file's name the list shows (the whole of it in ``title=``).
NAME_CHARS = 40

# What an uploaded file is (read-only: a new file is a new upload).
FILE_FIELDS = (
    "file_url",
    "content_type",
    "size_display",
    "dimensions",
    "uploaded_by",
    "created_at",
)


class MediaForm(forms.ModelForm):
    """The file (checked by ``services.media_upload``) and one alt text per enabled locale."""

    file = forms.FileField(
        help_text=gettext_lazy(
            "JPEG, PNG, GIF or WebP, at most 10 MB. The content is checked, not the name."
        )
    )

    class Meta:
        model = Media
        fields = ["file"]

    locales: list[str] = []

    @classmethod
    def for_locales(cls, locales: Iterable[str]) -> type[MediaForm]:
        fields = alt_text_fields(locales)
        return type("MediaForm", (cls,), {**fields, "locales": list(locales)})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields.pop("file", None)  # an uploaded file is kept as it is; upload a new one
        for locale in self.locales:
            if alt_field(locale) in self.fields:
                self.fields[alt_field(locale)].initial = (self.instance.alt_text or {}).get(
                    locale, ""
                )

    def alt_text(self) -> dict[str, str]:
        return {
            locale: self.cleaned_data[alt_field(locale)]
            for locale in self.locales
            if self.cleaned_data.get(alt_field(locale))
        }


@admin.register(Media)
class MediaAdmin(ServiceAdmin):
    # Few, narrow columns (the list fits a 1280 px window with the admin's sidebars open):
    # the file's name carries its type, size and dimensions.
    list_display = ["thumbnail", "name", "alt_default", "uploaded_by_name", "created"]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["content_type"]
    list_select_related = ["uploaded_by"]
    search_fields = ["file"]
    search_help_text = gettext_lazy("File name.")
    actions = ["delete_selected"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MediaForm.for_locales(current_locales())
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        alt = [alt_field(locale) for locale in current_locales()]
        if obj is None:
            return [(None, {"fields": ["file", *alt]})]
        if not self.has_change_permission(request, obj):
            alt = ["alt_texts"]
        return [
            (None, {"fields": ["preview", *alt]}),
            (gettext("File"), {"fields": list(FILE_FIELDS)}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["preview", "alt_texts", *FILE_FIELDS]

    @admin.display(description="")
    def thumbnail(self, obj: Media):
        return format_html(
            '<img src="{}" alt="{}" style="max-height:48px;max-width:96px">',
            obj.file.url,
            obj.alt(current_locales()[0]),
        )

    @admin.display(description=gettext_lazy("image"))
    def preview(self, obj: Media):
        return format_html(
            '<img src="{}" alt="{}" style="max-height:240px;max-width:100%">',
            obj.file.url,
            obj.alt(current_locales()[0]),
        )

    @admin.display(description=gettext_lazy("file"), ordering="file")
    def name(self, obj: Media):
        name = obj.file.name.rsplit("/", 1)[-1]
        return format_html(
            '<span title="{}">{}</span><div class="list-meta">{} · {} · {}</div>',
            name,
            Truncator(name).chars(NAME_CHARS),
            obj.content_type.removeprefix("image/"),
            self.size_display(obj),
            self.dimensions(obj),
        )

    @admin.display(description=gettext_lazy("uploaded by"), ordering="uploaded_by__username")
    def uploaded_by_name(self, obj: Media):
        return truncated(obj.uploaded_by.get_username(), 24) if obj.uploaded_by else "-"

    @admin.display(description=gettext_lazy("uploaded"), ordering="created_at")
    def created(self, obj: Media):
        return short_date(obj.created_at)

    @admin.display(description=gettext_lazy("file"))
    def file_url(self, obj: Media):
        return format_html('<a href="{}">{}</a>', obj.file.url, obj.file.name)

    @admin.display(description=gettext_lazy("size"), ordering="size")
    def size_display(self, obj: Media) -> str:
        if obj.size < 1024:
            return gettext("%(size)s bytes") % {"size": obj.size}
        if obj.size < 1024 * 1024:
            return f"{obj.size / 1024:.0f} kB"
        return f"{obj.size / 1048576:.1f} MB"

    @admin.display(description=gettext_lazy("dimensions"))
    def dimensions(self, obj: Media) -> str:
        return f"{obj.width}x{obj.height}" if obj.width and obj.height else "-"

    @admin.display(description=gettext_lazy("alt text"))
    def alt_texts(self, obj: Media):
        return format_html_join(
            "", "<div><strong>{}</strong>: {}</div>", sorted((obj.alt_text or {}).items())
        )

    @admin.display(description=gettext_lazy("alt text"))
    def alt_default(self, obj: Media):
        return truncated(obj.alt(current_locales()[0]), 60)

    def save_model(self, request, obj, form, change):
        if change:
            if any(name.startswith("alt_") for name in form.changed_data):
                services.media_update_alt(
                    media_id=obj.pk, alt_text=form.alt_text(), actor=request.user
                )
        else:
            media = services.media_upload(
                file=form.cleaned_data["file"], alt_text=form.alt_text(), actor=request.user
            )
            adopt(obj, media)

    def rejection(self, error):
        rejected = super().rejection(error)
        if "alt_text" in rejected.errors:  # one field per locale: the message goes above them
            rejected.errors["__all__"] = rejected.errors.pop("alt_text")
        return rejected

    def save_related(self, request, form, formsets, change):
        """No relations of its own to save."""

    def delete_model(self, request, obj):
        services.media_delete(media_id=obj.pk, actor=request.user)
