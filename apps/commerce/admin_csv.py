"""The tenant admin's CSV import and export of the catalog (``docs/catalog-csv.md``).

Thin delivery code: the file is read by ``csv_format``, written by
``services.catalog_import`` (all or nothing) and exported from ``selectors.catalog_export``.
Only staff who may add and change products and variants reach either view.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import csv_format, selectors, services

REQUIRED_PERMISSIONS = (
    "commerce.add_product",
    "commerce.change_product",
    "commerce.add_variant",
    "commerce.change_variant",
)


class CatalogImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Only check the file (import nothing)"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > csv_format.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB.")
                % {"size": csv_format.MAX_FILE_BYTES // (1024 * 1024)}
            )
        return upload


def _check(request: HttpRequest) -> None:
    if not request.user.has_perms(REQUIRED_PERMISSIONS):
        raise PermissionDenied


def catalog_import_view(request: HttpRequest) -> HttpResponse:
    _check(request)
    row_errors: list[csv_format.RowError] = []
    summary = None
    if request.method == "POST":
        form = CatalogImportForm(request.POST, request.FILES)
        if form.is_valid():
            dry_run = form.cleaned_data["dry_run"]
            try:
                parsed = csv_format.parse(
                    csv_format.decode(form.cleaned_data["file"].read()), collect=True
                )
                summary = services.catalog_import(
                    rows=parsed.rows, file_errors=parsed.errors, actor=request.user,
                    dry_run=dry_run,
                )  # fmt: skip
            except csv_format.ImportRejected as rejected:
                row_errors = rejected.row_errors
            except services.CommerceInvalid as invalid:
                form.add_error("file", str(invalid))
            else:
                if not dry_run:
                    messages.success(
                        request,
                        _(
                            "Imported: %(created)d products created, %(updated)d updated; "
                            "%(vcreated)d variants created, %(vupdated)d updated."
                        )
                        % {
                            "created": summary.products_created,
                            "updated": summary.products_updated,
                            "vcreated": summary.variants_created,
                            "vupdated": summary.variants_updated,
                        },
                    )
                    return HttpResponseRedirect(reverse("commerce_catalog_import"))
        status = 400 if (row_errors or form.errors) else 200
    else:
        form = CatalogImportForm()
        status = 200
    context = {
        **admin.site.each_context(request),
        "title": _("Import products from CSV"),
        "form": form,
        "row_errors": row_errors,
        "summary": summary,
        "export_url": reverse("commerce_catalog_export"),
    }
    return TemplateResponse(request, "admin/commerce/catalog_import.html", context, status=status)


def _export_response() -> HttpResponse:
    currencies, locations, records = selectors.catalog_export()
    out = io.StringIO()
    csv_format.write(out, csv_format.header_for(currencies, locations), records)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="catalog-{stamp}.csv"'
    return response


def catalog_export_view(request: HttpRequest) -> HttpResponse:
    _check(request)
    return _export_response()


@admin.action(description=gettext_lazy("Export CSV (the whole catalog)"))
def export_catalog_csv(modeladmin, request, queryset):
    """An admin action for the product list: the catalog export, the same file as the page's."""
    _check(request)
    return _export_response()


def urls() -> list:
    """The two views, wrapped by the admin site (login, staff, CSRF); mounted under /admin/."""
    view = admin.site.admin_view
    return [
        path("commerce/import/", view(catalog_import_view), name="commerce_catalog_import"),
        path("commerce/export/", view(catalog_export_view), name="commerce_catalog_export"),
    ]
