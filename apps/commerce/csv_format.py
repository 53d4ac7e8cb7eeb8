"""The catalog's CSV format (``docs/catalog-csv.md``): reading, checking and writing rows.

Pure: no database. ``parse`` turns a file into one ``CatalogRow`` per variant plus every
error it can see without the store (each with its row and column); what needs stored state
(a SKU used by another product, a currency the store does not sell in, an unknown location,
category or collection) is checked by ``services.catalog_import``. ``write`` produces what
``parse`` accepts, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from .errors import CommerceInvalid

PRODUCT_COLUMNS = (
    "handle", "title", "description", "vendor", "product_type", "status", "seo_title",
    "seo_description",
)  # fmt: skip
OPTION_COLUMNS = tuple(f"option{n}_{part}" for n in (1, 2, 3) for part in ("name", "value"))
VARIANT_COLUMNS = (
    "sku", "barcode", "weight_grams", "inventory_policy", "tracked", "low_stock_threshold",
)  # fmt: skip
LIST_COLUMNS = ("collections", "categories")
FIXED_COLUMNS = (*PRODUCT_COLUMNS, *OPTION_COLUMNS, *VARIANT_COLUMNS, *LIST_COLUMNS)
# Columns whose value belongs to the product: given on its first row, blank or equal later.
PRODUCT_LEVEL = (*PRODUCT_COLUMNS[1:], *(f"option{n}_name" for n in (1, 2, 3)), *LIST_COLUMNS)
REQUIRED_COLUMNS = ("handle", "sku")
PRICE_PREFIX, COMPARE_PREFIX, STOCK_PREFIX = "price_", "compare_at_", "stock_"
LIST_SEPARATOR = "|"
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")
# A plain decimal: no exponent, no thousands separator, no sign other than a leading minus.
DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
WHOLE_NUMBER = re.compile(r"^-?\d+$")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000


@dataclass(frozen=True)
class RowError:
    """One problem: its row (the header is row 1), its column ("" for the whole row)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("row %(row)d, column %(column)s: %(message)s") % {
                "row": self.row, "column": self.column, "message": self.message,
            }  # fmt: skip
        return _("row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


class ImportRejected(CommerceInvalid):
    """The file has errors; nothing was imported. ``row_errors`` lists them in row order."""

    code = "catalog_import_rejected"

    def __init__(self, row_errors: Sequence[RowError]) -> None:
        self.row_errors = sorted(row_errors, key=lambda e: (e.row, e.column))
        super().__init__(
            {f"row {e.row}" + (f", {e.column}" if e.column else ""): e.message
             for e in self.row_errors}
        )  # fmt: skip


@dataclass
class CatalogRow:
    """One variant line of the file, typed; product fields are only on ``first`` rows."""

    row: int
    handle: str
    sku: str
    product: dict[str, str] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)  # (name, value) in order
    variant: dict[str, object] = field(default_factory=dict)
    prices: dict[str, tuple[str, str]] = field(default_factory=dict)  # currency: (amount, compare)
    stock: dict[str, int] = field(default_factory=dict)  # location code: on hand
    collections: list[str] | None = None
    categories: list[str] | None = None


@dataclass
class ParsedFile:
    rows: list[CatalogRow]
    currencies: list[str]
    locations: list[str]
    errors: list[RowError] = field(default_factory=list)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([RowError(1, "", _("the file is not UTF-8 text"))]) from None


def _header(names: list[str]) -> tuple[list[str], list[str], list[RowError]]:
    errors: list[RowError] = []
    currencies: list[str] = []
    locations: list[str] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            errors.append(RowError(1, name, _("the column is given twice")))
        seen.add(name)
        if name in FIXED_COLUMNS:
            continue
        if name.startswith(PRICE_PREFIX):
            code = name[len(PRICE_PREFIX) :]
            if not re.fullmatch(r"[A-Z]{3}", code):
                errors.append(
                    RowError(1, name, _("a price column is price_ and an upper-case ISO 4217 code"))
                )
            else:
                currencies.append(code)
        elif name.startswith(COMPARE_PREFIX):
            code = name[len(COMPARE_PREFIX) :]
            if f"{PRICE_PREFIX}{code}" not in names:
                errors.append(
                    RowError(1, name, _("there is no price_%(code)s column") % {"code": code})
                )
        elif name.startswith(STOCK_PREFIX):
            code = name[len(STOCK_PREFIX) :]
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", code):
                errors.append(RowError(1, name, _("a stock column is stock_ and a location code")))
            else:
                locations.append(code)
        else:
            errors.append(RowError(1, name, _("unknown column")))
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append(RowError(1, name, _("the column is missing")))
    return currencies, locations, errors


def _bool(errors: list[RowError], row: int, column: str, text: str) -> bool | None:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    errors.append(RowError(row, column, _("must be true or false")))
    return None


def _whole(errors: list[RowError], row: int, column: str, text: str, *, minimum: int) -> int | None:
    if not WHOLE_NUMBER.match(text):
        errors.append(RowError(row, column, _("must be a whole number")))
        return None
    value = int(text)
    if not minimum <= value <= 1_000_000_000:
        errors.append(
            RowError(row, column, _("must be between %(low)d and %(high)d")
                     % {"low": minimum, "high": 1_000_000_000})
        )  # fmt: skip
        return None
    return value


def _decimal_text(errors: list[RowError], row: int, column: str, text: str) -> str | None:
    if not DECIMAL_TEXT.match(text):
        errors.append(
            RowError(row, column,
                     _("'%(value)s' is not a plain decimal number (like 12.50)") % {"value": text[:40]})
        )  # fmt: skip
        return None
    return text


def parse(text: str, *, collect: bool = False) -> ParsedFile:
    """Every row of the file, typed; ``ImportRejected`` with every error found otherwise.

    With ``collect``, errors of rows are returned in ``errors`` with the rows (so that
    ``services.catalog_import`` reports them with the errors only the store can see); an
    unreadable file or a wrong header still raises.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ImportRejected([RowError(1, "", _("the file is empty"))]) from None
    except csv.Error as error:
        raise ImportRejected([RowError(1, "", str(error))]) from None
    currencies, locations, errors = _header(header)
    if errors:
        raise ImportRejected(errors)
    rows: list[CatalogRow] = []
    firsts: dict[str, CatalogRow] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                errors.append(RowError(number, "", _("a file has at most %(count)d rows")
                                       % {"count": MAX_ROWS}))  # fmt: skip
                break
            if len(cells) != len(header):
                errors.append(
                    RowError(number, "", _("%(found)d cells where the header has %(count)d")
                             % {"found": len(cells), "count": len(header)})
                )  # fmt: skip
                continue
            values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            row = _parse_row(errors, number, values, currencies, locations)
            first = firsts.get(row.handle)
            if first is None:
                firsts[row.handle] = row
                _first_row(errors, row, values)
            else:
                _continuation_row(errors, row, first, values)
            rows.append(row)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, "", str(error)))
    if not rows and not errors:
        errors.append(RowError(2, "", _("the file has no rows")))
    _check_products(errors, rows)
    if errors and not collect:
        raise ImportRejected(errors)
    return ParsedFile(rows=rows, currencies=currencies, locations=locations, errors=errors)


def _parse_row(
    errors: list[RowError], number: int, values: dict[str, str], currencies, locations
) -> CatalogRow:
    handle = values.get("handle", "")
    if not handle:
        errors.append(RowError(number, "handle", _("required")))
    elif not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", handle) or len(handle) > 255:
        errors.append(
            RowError(number, "handle", _("lower-case letters, digits and single hyphens only"))
        )
    sku = values.get("sku", "")
    if not sku:
        errors.append(RowError(number, "sku", _("required")))
    elif len(sku) > 64 or any(char.isspace() for char in sku):
        errors.append(RowError(number, "sku", _("at most 64 characters, without spaces")))
    row = CatalogRow(row=number, handle=handle, sku=sku)
    variant: dict[str, object] = {}
    if "barcode" in values:
        if len(values["barcode"]) > 64:
            errors.append(
                RowError(number, "barcode", _("at most %(count)d characters") % {"count": 64})
            )
        variant["barcode"] = values["barcode"]
    if values.get("weight_grams"):
        weight = _decimal_text(errors, number, "weight_grams", values["weight_grams"])
        if weight is not None:
            if Decimal(weight) < 0 or Decimal(weight) >= Decimal(10) ** 9:
                errors.append(RowError(number, "weight_grams",
                                       _("must be between 0 and 999999999.999 grams")))  # fmt: skip
            variant["weight_grams"] = Decimal(weight).quantize(Decimal("0.001"))
    elif "weight_grams" in values:
        variant["weight_grams"] = None
    if values.get("inventory_policy"):
        if values["inventory_policy"] not in ("deny", "continue"):
            errors.append(RowError(number, "inventory_policy", _("must be deny or continue")))
        variant["inventory_policy"] = values["inventory_policy"]
    if values.get("tracked"):
        variant["tracked"] = _bool(errors, number, "tracked", values["tracked"])
    if values.get("low_stock_threshold"):
        variant["low_stock_threshold"] = _whole(
            errors, number, "low_stock_threshold", values["low_stock_threshold"], minimum=0
        )
    row.variant = variant
    for code in currencies:
        amount = values.get(f"{PRICE_PREFIX}{code}", "")
        compare = values.get(f"{COMPARE_PREFIX}{code}", "")
        if amount:
            _decimal_text(errors, number, f"{PRICE_PREFIX}{code}", amount)
            if amount.startswith("-"):
                errors.append(RowError(number, f"{PRICE_PREFIX}{code}", _("cannot be negative")))
        if compare:
            _decimal_text(errors, number, f"{COMPARE_PREFIX}{code}", compare)
            if not amount:
                errors.append(RowError(number, f"{COMPARE_PREFIX}{code}",
                                       _("a compare-at price needs a price")))  # fmt: skip
        if amount:
            row.prices[code] = (amount, compare)
    for code in locations:
        cell = values.get(f"{STOCK_PREFIX}{code}", "")
        if cell:
            on_hand = _whole(errors, number, f"{STOCK_PREFIX}{code}", cell, minimum=-1_000_000_000)
            if on_hand is not None:
                row.stock[code] = on_hand
    for n in (1, 2, 3):
        value = values.get(f"option{n}_value", "")
        if len(value) > 100:
            errors.append(RowError(number, f"option{n}_value", _("at most %(count)d characters")
                                   % {"count": 100}))  # fmt: skip
        row.options.append(("", value))
    return row


def _first_row(errors: list[RowError], row: CatalogRow, values: dict[str, str]) -> None:
    number = row.row
    product = {name: values[name] for name in PRODUCT_COLUMNS[1:] if name in values}
    if not product.get("title"):
        errors.append(RowError(number, "title", _("required on a product's first row")))
    for name, limit in (("title", 255), ("vendor", 255), ("product_type", 255),
                        ("seo_title", 255), ("seo_description", 320)):  # fmt: skip
        if len(product.get(name, "")) > limit:
            errors.append(
                RowError(number, name, _("at most %(count)d characters") % {"count": limit})
            )
    if product.get("status") and product["status"] not in ("draft", "active", "archived"):
        errors.append(RowError(number, "status", _("must be draft, active or archived")))
    row.product = product
    names = [values.get(f"option{n}_name", "") for n in (1, 2, 3)]
    for n, name in enumerate(names, start=1):
        if len(name) > 100:
            errors.append(RowError(number, f"option{n}_name", _("at most %(count)d characters")
                                   % {"count": 100}))  # fmt: skip
        if name and n > 1 and not names[n - 2]:
            errors.append(RowError(number, f"option{n}_name",
                                   _("fill the options in order: option%(n)d_name is blank")
                                   % {"n": n - 1}))  # fmt: skip
    lowered = [name.casefold() for name in names if name]
    if len(set(lowered)) != len(lowered):
        errors.append(RowError(number, "option1_name", _("two options have the same name")))
    row.options = [(name, value) for name, (_blank, value) in zip(names, row.options, strict=True)]
    if values.get("collections"):
        row.collections = _split(values["collections"])
    if values.get("categories"):
        row.categories = _split(values["categories"])


def _continuation_row(
    errors: list[RowError], row: CatalogRow, first: CatalogRow, values: dict[str, str]
) -> None:
    for name in PRODUCT_LEVEL:
        given = values.get(name, "")
        if not given:
            continue
        if name in first.product:
            expected = first.product[name]
        elif name in LIST_COLUMNS:
            listed = first.collections if name == "collections" else first.categories
            expected = LIST_SEPARATOR.join(listed or [])
            given = LIST_SEPARATOR.join(_split(given))
        else:
            expected = first.options[int(name[6]) - 1][0]
        if given != expected:
            errors.append(
                RowError(row.row, name,
                         _("differs from the product's first row (row %(row)d): leave it blank")
                         % {"row": first.row})
            )  # fmt: skip
    row.options = [
        (name, value)
        for (name, _v), (_blank, value) in zip(first.options, row.options, strict=True)
    ]


def _check_products(errors: list[RowError], rows: list[CatalogRow]) -> None:
    """Per product: one value for each option on every row, each combination once; per file:
    each SKU once."""
    skus: dict[str, int] = {}
    combinations: dict[tuple[str, tuple[str, ...]], int] = {}
    for row in rows:
        if row.sku:
            if row.sku in skus:
                errors.append(RowError(row.row, "sku", _("'%(sku)s' is already on row %(row)d")
                                       % {"sku": row.sku, "row": skus[row.sku]}))  # fmt: skip
            else:
                skus[row.sku] = row.row
        for n, (name, value) in enumerate(row.options, start=1):
            if name and not value:
                errors.append(RowError(row.row, f"option{n}_value", _("choose a value of %(option)s")
                                       % {"option": name}))  # fmt: skip
            elif value and not name:
                errors.append(RowError(row.row, f"option{n}_value",
                                       _("the product has no option %(n)d") % {"n": n}))  # fmt: skip
        key = (row.handle, tuple(value.casefold() for _name, value in row.options))
        if key in combinations:
            errors.append(
                RowError(row.row, "option1_value",
                         _("the same options as row %(row)d") % {"row": combinations[key]})
            )  # fmt: skip
        else:
            combinations[key] = row.row


def header_for(currencies: Iterable[str], locations: Iterable[str]) -> list[str]:
    columns = list(FIXED_COLUMNS)
    for code in currencies:
        columns += [f"{PRICE_PREFIX}{code}", f"{COMPARE_PREFIX}{code}"]
    columns += [f"{STOCK_PREFIX}{code}" for code in locations]
    return columns


def write(out: io.TextIOBase, header: Sequence[str], records: Iterable[dict[str, str]]) -> int:
    """Write ``records`` (column: text) under ``header``; returns how many rows."""
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for record in records:
        writer.writerow(record)
        count += 1
    return count
