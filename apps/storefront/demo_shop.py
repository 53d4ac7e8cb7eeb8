"""The demo shops: acme sells outdoor gear, globex (a journal) prints, books and subscriptions.

Written through commerce's services only, so versions, events and the outbox behave as they
do for a merchant. Each product is seeded whole or not at all (one transaction), and what
exists (found by handle or code) is left alone: running the demo again writes nothing.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageOps

from apps.commerce import checkout_selectors, checkout_settings
from apps.commerce import selectors as shop
from apps.commerce import services as commerce
from apps.commerce.checkout_settings import RateInput, VoucherInput
from apps.commerce.services import ProductInput, VariantInput

if TYPE_CHECKING:
    from .demo import SeedReport

# Shapes a product's pictures are drawn with: a hint of what it is, nothing more.
SHAPES = ("tent", "garment", "pack", "bottle", "mug", "frame", "book", "card", "round")


@dataclass(frozen=True)
class DemoProduct:
    handle: str
    title: tuple[str, str]  # English, German
    description: tuple[str, str]
    product_type: str
    categories: tuple[str, ...]
    # The price in the store's default currency; option values may cost more.
    price: str
    shape: str
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    surcharges: dict[str, str] = field(default_factory=dict)
    compare_at: str | None = None
    # Subscriptions are not kept in a warehouse.
    tracked: bool = True
    weight_grams: int | None = None


@dataclass(frozen=True)
class DemoShop:
    vendor: str
    sku_prefix: str
    default_currency: str
    # The other currency, and how a default price converts to it (rounded to whole units).
    other_currency: str
    rate: Decimal
    locations: tuple[tuple[str, str], ...]
    categories: tuple[tuple[str, str], ...]
    collections: tuple[tuple[str, str, str, tuple[str, ...]], ...]
    colours: tuple[tuple[str, str], ...]
    products: tuple[DemoProduct, ...]


SIZES = ("Size", ("S", "M", "L", "XL"))

# fmt: off
ACME = DemoShop(
    vendor="Acme Outfitters",
    sku_prefix="AC",
    default_currency="EUR",
    other_currency="USD",
    rate=Decimal("1.08"),
    locations=(("berlin", "Berlin warehouse"), ("munich-shop", "Munich shop")),
    categories=(
        ("featured", "Featured"),
        ("shelter", "Tents & sleeping"),
        ("clothing", "Clothing"),
        ("packs", "Packs & accessories"),
        ("camp-kitchen", "Camp kitchen"),
    ),
    collections=(
        ("new-arrivals", "New arrivals", "Fresh in for this season.",
         ("ridgeline-2-tent", "storm-shell-jacket", "insulated-bottle", "headlamp-400")),
        ("trail-essentials", "Trail essentials", "What we pack for every hike.",
         ("trailhead-30-pack", "merino-base-layer", "trekking-poles", "wool-hiking-socks",
          "titanium-mug")),
    ),
    colours=(("#0b3d2e", "#8fd19e"), ("#1f4e79", "#9cc3e6"), ("#7a3b00", "#f6c177"),
             ("#3b3b3b", "#d9d9d9")),
    products=(
        DemoProduct(
            "ridgeline-2-tent", ("Ridgeline 2 tent", "Ridgeline-2-Zelt"),
            ("A two-person tent for three seasons: **2.1 kg**, up in five minutes, with two "
             "doors and two porches.\n\n- Fly: 20D ripstop nylon\n- Poles: aluminium\n"
             "- Packed size: 45 x 16 cm",
             "Ein Zwei-Personen-Zelt für drei Jahreszeiten: **2,1 kg**, in fünf Minuten "
             "aufgebaut, mit zwei Eingängen und zwei Apsiden.\n\n- Außenzelt: 20D-Ripstop-Nylon\n"
             "- Gestänge: Aluminium\n- Packmaß: 45 x 16 cm"),
            "Tent", ("featured", "shelter"), "349.00", "tent",
            options=(("Colour", ("Forest", "Sand")),), weight_grams=2100,
        ),
        DemoProduct(
            "summit-down-jacket", ("Summit down jacket", "Summit-Daunenjacke"),
            ("Warm, light and packable: 800 fill power down from certified sources, with a "
             "water-repellent shell.",
             "Warm, leicht und klein verpackbar: 800 cuin Daune aus zertifizierter Herkunft, "
             "mit wasserabweisendem Obermaterial."),
            "Jacket", ("featured", "clothing"), "229.00", "garment",
            options=(("Size", ("S", "M", "L")), ("Colour", ("Black", "Ember"))),
            weight_grams=380,
        ),
        DemoProduct(
            "trailhead-30-pack", ("Trailhead 30 L pack", "Trailhead-Rucksack 30 L"),
            ("A day pack that carries like a bigger one: ventilated back, hip belt with "
             "pockets, rain cover in the lid.",
             "Ein Tagesrucksack, der trägt wie ein großer: belüfteter Rücken, Hüftgurt mit "
             "Taschen, Regenhülle im Deckel."),
            "Backpack", ("featured", "packs"), "129.00", "pack",
            options=(("Colour", ("Slate", "Moss")),), weight_grams=1050,
        ),
        DemoProduct(
            "merino-base-layer", ("Alpine merino base layer", "Alpine Merino-Funktionsshirt"),
            ("Fine merino wool next to the skin: warm when it is cold, cool when it is not, "
             "and it does not smell after a week on the trail.",
             "Feine Merinowolle auf der Haut: warm, wenn es kalt ist, kühl, wenn nicht, und "
             "auch nach einer Woche unterwegs geruchsfrei."),
            "Base layer", ("clothing",), "79.00", "garment",
            options=(SIZES,), surcharges={"XL": "5.00"}, weight_grams=190,
        ),
        DemoProduct(
            "storm-shell-jacket", ("Storm shell rain jacket", "Storm-Shell-Regenjacke"),
            ("Three-layer waterproof membrane, taped seams and a hood that turns with your "
             "head. **On sale** this month.",
             "Dreilagige wasserdichte Membran, verklebte Nähte und eine Kapuze, die mitdreht. "
             "Diesen Monat **im Angebot**."),
            "Jacket", ("clothing",), "189.00", "garment",
            options=(("Size", ("S", "M", "L")), ("Colour", ("Blue", "Red"))),
            compare_at="219.00", weight_grams=420,
        ),
        DemoProduct(
            "camp-stove-duo", ("Camp stove duo", "Campingkocher Duo"),
            ("A compact gas stove with a windscreen and a 1 L pot that nest together.",
             "Ein kompakter Gaskocher mit Windschutz und 1-Liter-Topf, ineinander verstaubar."),
            "Stove", ("camp-kitchen",), "89.00", "round", weight_grams=540,
        ),
        DemoProduct(
            "titanium-mug", ("Titanium mug 450 ml", "Titanbecher 450 ml"),
            ("Light enough to forget, strong enough to cook in. Folding handles.",
             "So leicht, dass man ihn vergisst, und stabil genug zum Kochen. Klappgriffe."),
            "Mug", ("camp-kitchen",), "29.00", "mug", weight_grams=75,
        ),
        DemoProduct(
            "insulated-bottle", ("Insulated bottle 750 ml", "Isolierflasche 750 ml"),
            ("Keeps tea hot for 12 hours and water cold for 24. Steel, no plastic inside.",
             "Hält Tee 12 Stunden heiß und Wasser 24 Stunden kalt. Edelstahl, innen ohne "
             "Kunststoff."),
            "Bottle", ("featured", "camp-kitchen"), "35.00", "bottle",
            options=(("Colour", ("Steel", "Sky", "Coral")),), weight_grams=360,
        ),
        DemoProduct(
            "nordic-sleeping-bag", ("Nordic sleeping bag -5 °C", "Nordic-Schlafsack -5 °C"),
            ("A mummy bag for cold nights, with a draught collar and a two-way zip.",
             "Ein Mumienschlafsack für kalte Nächte, mit Wärmekragen und Zwei-Wege-"
             "Reißverschluss."),
            "Sleeping bag", ("shelter",), "199.00", "pack",
            options=(("Size", ("Regular", "Long")),), surcharges={"Long": "20.00"},
            weight_grams=1300,
        ),
        DemoProduct(
            "trekking-poles", ("Carbon trekking poles (pair)", "Carbon-Trekkingstöcke (Paar)"),
            ("Three sections, flick locks, cork grips. Down from 85.",
             "Drei Segmente, Klemmverschlüsse, Korkgriffe. Reduziert."),
            "Poles", ("packs",), "69.00", "card", compare_at="85.00", weight_grams=460,
        ),
        DemoProduct(
            "headlamp-400", ("Headlamp 400", "Stirnlampe 400"),
            ("400 lumens, a red light for the tent and a battery that charges over USB-C.",
             "400 Lumen, Rotlicht fürs Zelt und ein Akku, der über USB-C lädt."),
            "Lamp", ("packs",), "45.00", "round",
            options=(("Colour", ("Black", "Orange")),), weight_grams=85,
        ),
        DemoProduct(
            "wool-hiking-socks", ("Wool hiking socks", "Wander-Wollsocken"),
            ("Cushioned where boots rub, thin where they do not. Made in Portugal.",
             "Gepolstert, wo der Schuh reibt, dünn, wo nicht. Hergestellt in Portugal."),
            "Socks", ("clothing",), "19.00", "garment",
            options=(("Size", ("S", "M", "L")),), weight_grams=80,
        ),
    ),
)

GLOBEX = DemoShop(
    vendor="Globex Journal",
    sku_prefix="GJ",
    default_currency="USD",
    other_currency="EUR",
    rate=Decimal("0.93"),
    locations=(("warehouse", "Main warehouse"), ("print-studio", "Print studio")),
    categories=(
        ("featured", "Featured"),
        ("prints", "Prints"),
        ("books", "Books"),
        ("subscriptions", "Subscriptions"),
        ("merchandise", "Merchandise"),
    ),
    collections=(
        ("editors-picks", "Editor's picks", "What the editors have on their own walls and shelves.",
         ("harbour-at-dawn-print", "the-long-walk", "print-subscription", "city-lines-print")),
        ("gift-ideas", "Gift ideas", "For the reader in your life.",
         ("gift-subscription", "field-notes-anthology", "botanical-study-print", "journal-tote-bag",
          "slow-mornings")),
    ),
    colours=(("#3d0b37", "#e7a4d8"), ("#0b2d3d", "#a4d8e7"), ("#3d2f0b", "#e7d8a4"),
             ("#1d1d1d", "#f2efe6")),
    products=(
        DemoProduct(
            "harbour-at-dawn-print", ("Harbour at dawn (print)", "Hafen im Morgengrauen (Druck)"),
            ("The cover of our spring issue as a giclée print on 310 g cotton paper, signed "
             "by the photographer.",
             "Das Titelbild unserer Frühjahrsausgabe als Giclée-Druck auf 310-g-Baumwollpapier, "
             "von der Fotografin signiert."),
            "Print", ("featured", "prints"), "45.00", "frame",
            options=(("Size", ("A3", "A2")), ("Frame", ("Unframed", "Oak"))),
            surcharges={"A2": "30.00", "Oak": "60.00"}, weight_grams=600,
        ),
        DemoProduct(
            "northern-lights-print", ("Northern lights (print)", "Nordlichter (Druck)"),
            ("A night above Tromsø, printed in a numbered edition of 200.",
             "Eine Nacht über Tromsø, gedruckt in einer nummerierten Auflage von 200 Stück."),
            "Print", ("prints",), "35.00", "frame",
            options=(("Size", ("A4", "A3", "A2")),), surcharges={"A3": "15.00", "A2": "40.00"},
            weight_grams=400,
        ),
        DemoProduct(
            "city-lines-print", ("City lines (print)", "Linien der Stadt (Druck)"),
            ("Architectural drawings from our city issue, two colours, screen printed by hand.",
             "Architekturzeichnungen aus unserer Stadt-Ausgabe, zweifarbig, von Hand im "
             "Siebdruck gedruckt."),
            "Print", ("prints",), "55.00", "frame",
            options=(("Size", ("A3", "A2")), ("Frame", ("Unframed", "Black"))),
            surcharges={"A2": "25.00", "Black": "55.00"}, weight_grams=600,
        ),
        DemoProduct(
            "botanical-study-print", ("Botanical study no. 4 (print)",
                                      "Botanische Studie Nr. 4 (Druck)"),
            ("Ferns from the archive of a Victorian naturalist, restored for our autumn issue.",
             "Farne aus dem Archiv eines viktorianischen Naturforschers, restauriert für "
             "unsere Herbstausgabe."),
            "Print", ("prints",), "30.00", "frame",
            options=(("Size", ("A4", "A3")),), surcharges={"A3": "15.00"},
            compare_at="38.00", weight_grams=300,
        ),
        DemoProduct(
            "the-long-walk", ("The long walk: essays", "Der lange Weg: Essays"),
            ("Twelve essays on walking, from the journal's first ten years. 240 pages.",
             "Zwölf Essays über das Gehen, aus den ersten zehn Jahren des Journals. 240 Seiten."),
            "Book", ("featured", "books"), "24.00", "book",
            options=(("Format", ("Paperback", "Hardcover")),), surcharges={"Hardcover": "12.00"},
            weight_grams=420,
        ),
        DemoProduct(
            "field-notes-anthology", ("Field notes: an anthology", "Feldnotizen: eine Anthologie"),
            ("Forty writers, forty places, one notebook each. With 60 photographs.",
             "Vierzig Autorinnen und Autoren, vierzig Orte, je ein Notizbuch. Mit 60 Fotografien."),
            "Book", ("books",), "32.00", "book",
            options=(("Format", ("Paperback", "Hardcover", "Signed hardcover")),),
            surcharges={"Hardcover": "10.00", "Signed hardcover": "25.00"}, weight_grams=650,
        ),
        DemoProduct(
            "slow-mornings", ("A year of slow mornings", "Ein Jahr langsamer Morgen"),
            ("Fifty-two breakfasts and the stories around them. Hardcover, 180 pages.",
             "Zweiundfünfzig Frühstücke und die Geschichten dazu. Gebunden, 180 Seiten."),
            "Book", ("books",), "28.00", "book", weight_grams=560,
        ),
        DemoProduct(
            "print-subscription", ("Print subscription", "Print-Abonnement"),
            ("Four issues a year, delivered to your door, with free access to the archive.",
             "Vier Ausgaben im Jahr, frei Haus, mit freiem Zugang zum Archiv."),
            "Subscription", ("featured", "subscriptions"), "60.00", "card",
            options=(("Term", ("1 year", "2 years")),), surcharges={"2 years": "50.00"},
            tracked=False,
        ),
        DemoProduct(
            "digital-subscription", ("Digital subscription", "Digital-Abonnement"),
            ("Every article as it is published, the full archive and the app.",
             "Jeder Artikel sofort bei Erscheinen, das ganze Archiv und die App."),
            "Subscription", ("subscriptions",), "6.00", "card",
            options=(("Term", ("Monthly", "Yearly")),), surcharges={"Yearly": "54.00"},
            tracked=False,
        ),
        DemoProduct(
            "gift-subscription", ("Gift subscription", "Geschenk-Abonnement"),
            ("A subscription for someone else, announced with a card in their name.",
             "Ein Abonnement für jemand anderen, angekündigt mit einer Karte auf seinen Namen."),
            "Subscription", ("subscriptions",), "35.00", "card",
            options=(("Term", ("6 months", "1 year")),), surcharges={"1 year": "25.00"},
            tracked=False,
        ),
        DemoProduct(
            "journal-tote-bag", ("Journal tote bag", "Journal-Stofftasche"),
            ("Heavy organic cotton, long handles, room for two issues and a loaf of bread.",
             "Schwere Bio-Baumwolle, lange Henkel, Platz für zwei Ausgaben und ein Brot."),
            "Bag", ("merchandise",), "22.00", "pack",
            options=(("Colour", ("Natural", "Black")),), weight_grams=210,
        ),
        DemoProduct(
            "journal-t-shirt", ("Journal T-shirt", "Journal-T-Shirt"),
            ("The masthead on organic cotton, printed in Leipzig.",
             "Der Zeitungskopf auf Bio-Baumwolle, gedruckt in Leipzig."),
            "T-shirt", ("merchandise",), "29.00", "garment",
            options=(("Size", ("S", "M", "L")), ("Colour", ("Natural", "Black"))),
            weight_grams=180,
        ),
    ),
)
# fmt: on

SHOPS = {"acme": ACME, "globex": GLOBEX}


def product_picture(seed: int, *, colours: tuple[str, str], shape: str, size: int = 800) -> bytes:
    """A square product picture (a gradient behind a simple shape of the product), as JPEG."""
    dark, light = colours
    gradient = Image.linear_gradient("L").rotate(20 + seed * 35, expand=False).resize((size, size))
    image = ImageOps.colorize(gradient, black=light, white="#ffffff").convert("RGB")
    draw = ImageDraw.Draw(image)
    unit, width = size // 8, max(size // 100, 2)
    box = (2 * unit, 2 * unit, 6 * unit, 6 * unit)
    if shape == "tent":
        draw.polygon([(unit, 6 * unit), (4 * unit, 2 * unit), (7 * unit, 6 * unit)], fill=dark)
        draw.polygon([(4 * unit, 6 * unit), (4 * unit, 3 * unit), (5 * unit, 6 * unit)], fill=light)
    elif shape == "garment":
        draw.polygon(
            [(3 * unit, 2 * unit), (5 * unit, 2 * unit), (7 * unit, 3 * unit),
             (6 * unit, 4 * unit), (5.5 * unit, 3.6 * unit), (5.5 * unit, 6.5 * unit),
             (2.5 * unit, 6.5 * unit), (2.5 * unit, 3.6 * unit), (2 * unit, 4 * unit),
             (unit, 3 * unit)],
            fill=dark,
        )  # fmt: skip
    elif shape == "pack":
        draw.rounded_rectangle(box, radius=unit, fill=dark)
        draw.rounded_rectangle(
            (2.6 * unit, 4 * unit, 5.4 * unit, 5.6 * unit), radius=unit // 3, fill=light
        )
    elif shape == "bottle":
        draw.rounded_rectangle(
            (3 * unit, 2.4 * unit, 5 * unit, 7 * unit), radius=unit // 2, fill=dark
        )
        draw.rectangle((3.5 * unit, 1.4 * unit, 4.5 * unit, 2.4 * unit), fill=dark)
    elif shape == "mug":
        draw.rectangle((2 * unit, 3 * unit, 5 * unit, 6 * unit), fill=dark)
        draw.arc(
            (4.2 * unit, 3.5 * unit, 6.2 * unit, 5.5 * unit), -90, 90, fill=dark, width=width * 3
        )
    elif shape == "frame":
        draw.rectangle((1.5 * unit, unit, 6.5 * unit, 7 * unit), fill=dark)
        draw.rectangle((2 * unit, 1.5 * unit, 6 * unit, 6.5 * unit), fill=light)
        draw.ellipse((3 * unit, 2.5 * unit, 5 * unit, 4.5 * unit), outline=dark, width=width)
    elif shape == "book":
        draw.rectangle((2.2 * unit, 1.5 * unit, 5.8 * unit, 6.5 * unit), fill=dark)
        draw.rectangle((2.2 * unit, 1.5 * unit, 2.6 * unit, 6.5 * unit), fill=light)
        draw.line((3 * unit, 2.5 * unit, 5.3 * unit, 2.5 * unit), fill=light, width=width)
    elif shape == "card":
        draw.rounded_rectangle(
            (unit, 2.5 * unit, 7 * unit, 5.5 * unit), radius=unit // 3, fill=dark
        )
        draw.line((1.5 * unit, 4.5 * unit, 4 * unit, 4.5 * unit), fill=light, width=width)
    else:
        draw.ellipse(box, fill=dark)
        draw.ellipse((3 * unit, 3 * unit, 5 * unit, 5 * unit), fill=light)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _converted(amount: str | None, rate: Decimal) -> str | None:
    if amount is None:
        return None
    return str((Decimal(amount) * rate).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _combinations(product: DemoProduct) -> list[dict[str, str]]:
    names = [name for name, _values in product.options]
    return [
        dict(zip(names, chosen, strict=True))
        for chosen in itertools.product(*(values for _name, values in product.options))
    ]


def _sku(prefix: str, number: int, chosen: dict[str, str]) -> str:
    parts = [slugify(value).replace("-", "")[:8].upper() for value in chosen.values()]
    return "-".join([prefix, f"{number:03d}", *parts])


def _seed_product(
    shop_data: DemoShop,
    product: DemoProduct,
    *,
    number: int,
    category_ids: dict[str, int],
    location_ids: list[int],
) -> None:
    (title_en, title_de), (body_en, body_de) = product.title, product.description
    created = commerce.product_create(
        data=ProductInput(
            title=title_en,
            handle=product.handle,
            description=body_en,
            vendor=shop_data.vendor,
            product_type=product.product_type,
            category_ids=[category_ids[handle] for handle in product.categories],
        ),
        translations={"de": {"title": title_de, "description": body_de}},
    )
    for name, values in product.options:
        commerce.option_create(product_id=created.pk, name=name, values=list(values))
    for position, chosen in enumerate(_combinations(product)):
        variant = commerce.variant_create(
            product_id=created.pk,
            data=VariantInput(
                sku=_sku(shop_data.sku_prefix, number, chosen),
                options=chosen,
                position=position,
                weight_grams=product.weight_grams,
                tracked=product.tracked,
                low_stock_threshold=3 if product.tracked else 0,
            ),
        )
        extra = sum(
            (Decimal(product.surcharges.get(value, "0")) for value in chosen.values()), Decimal(0)
        )
        amount = str(Decimal(product.price) + extra)
        compare_at = str(Decimal(product.compare_at) + extra) if product.compare_at else None
        commerce.price_set(
            variant_id=variant.pk, currency=shop_data.default_currency, amount=amount,
            compare_at_amount=compare_at,
        )  # fmt: skip
        commerce.price_set(
            variant_id=variant.pk, currency=shop_data.other_currency,
            amount=_converted(amount, shop_data.rate),
            compare_at_amount=_converted(compare_at, shop_data.rate),
        )  # fmt: skip
        if product.tracked:
            for index, location_id in enumerate(location_ids):
                commerce.stock_set(
                    variant_id=variant.pk,
                    location_id=location_id,
                    # Varied, and now and then out of stock in the shop (never in both places).
                    on_hand=(number * 7 + position * 5 + index * 11) % (24 if index else 40)
                    + (0 if index else 2),
                    note="Demo stock",
                )
    views = (("front view", "Vorderansicht"), ("detail", "Detailansicht"))
    for view, (view_en, view_de) in enumerate(views):
        picture = product_picture(
            number * 2 + view,
            colours=shop_data.colours[(number + view) % len(shop_data.colours)],
            shape=product.shape,
        )
        commerce.product_image_add(
            product_id=created.pk,
            file=SimpleUploadedFile(f"{product.handle}.jpg", picture, content_type="image/jpeg"),
            alt_text={"en": f"{title_en}, {view_en}", "de": f"{title_de}, {view_de}"},
        )
    commerce.product_transition(product_id=created.pk, action="activate")


def seed_shop(*, slug: str, report: SeedReport) -> None:
    """Seed the demo shop of ``slug`` (acme or globex; any other tenant gets none)."""
    shop_data = SHOPS.get(slug)
    if shop_data is None:
        return
    settings = shop.store_settings()
    wanted = [shop_data.default_currency, shop_data.other_currency]
    if settings.default_currency != wanted[0] or not set(wanted) <= set(
        settings.enabled_currencies
    ):
        enabled = [*wanted, *(c for c in settings.enabled_currencies if c not in wanted)]
        commerce.store_settings_update(default_currency=wanted[0], enabled_currencies=enabled)
        report.created.append("store currencies")
    location_ids = []
    for code, name in shop_data.locations:
        location = shop.location_by_code(code)
        if location is None:
            location = commerce.location_create(code=code, name=name)
            report.created.append(f"location {code}")
        location_ids.append(location.pk)
    category_ids = {}
    for position, (handle, name) in enumerate(shop_data.categories):
        category = shop.category_by_handle(handle)
        if category is None:
            category = commerce.category_create(name=name, handle=handle, position=position)
            report.created.append(f"category {handle}")
        category_ids[handle] = category.pk
    for number, product in enumerate(shop_data.products, start=1):
        if shop.product_by_handle(product.handle) is not None:
            report.kept.append(f"product {product.handle}")
            continue
        # One product, whole or not at all: a run that failed halfway is completed by the next.
        with transaction.atomic():
            _seed_product(
                shop_data, product, number=number, category_ids=category_ids,
                location_ids=location_ids,
            )  # fmt: skip
        report.created.append(f"product {product.handle}")
    for handle, title, description, members in shop_data.collections:
        if shop.collection_by_handle(handle) is not None:
            report.kept.append(f"collection {handle}")
            continue
        product_ids = [shop.product_by_handle(member).pk for member in members]
        commerce.collection_create(
            title=title, handle=handle, description=description, product_ids=product_ids
        )
        report.created.append(f"collection {handle}")
    _seed_checkout_settings(report)


# VAT per country (prices include it; the store's default) and where the demo shops ship.
DEMO_TAX_RATES = {"DE": "0.19", "AT": "0.20", "FR": "0.20", "NL": "0.21", "GB": "0.20"}
DEMO_ZONES = (
    # zone, countries, method, its German name, {currency: (price, free over)}
    ("Europe", ["DE", "AT", "FR", "NL", "BE", "GB"], "Standard", "Standardversand",
     {"EUR": ("4.90", "75.00"), "USD": ("5.50", "85.00")}),
    ("Europe", ["DE", "AT", "FR", "NL", "BE", "GB"], "Express", "Expressversand",
     {"EUR": ("12.90", None), "USD": ("14.50", None)}),
    ("United States", ["US"], "Ground", "Standardversand",
     {"USD": ("6.00", "100.00"), "EUR": ("5.50", "90.00")}),
)  # fmt: skip
DEMO_VOUCHER = "WELCOME10"  # 10 % off, any currency


def _seed_checkout_settings(report: SeedReport) -> None:
    """Tax rates, shipping zones with their methods, and a welcome voucher (each once)."""
    for country, rate in DEMO_TAX_RATES.items():
        if checkout_selectors.tax_rate_for(country) == Decimal(0):
            checkout_settings.tax_rate_set(country=country, rate=rate, name="VAT")
            report.created.append(f"tax rate {country}")
    zones: dict[str, int] = {}
    for zone_name, countries, method, german, rates in DEMO_ZONES:
        country = countries[0]
        if any(
            option.method.name == method
            for option in checkout_selectors.shipping_options(country, "USD")
        ):
            report.kept.append(f"shipping {method}")
            continue
        if zone_name not in zones:
            zones[zone_name] = checkout_settings.shipping_zone_save(
                name=zone_name, countries=countries
            ).pk
        checkout_settings.shipping_method_save(
            zone_id=zones[zone_name], name=method, name_translations={"de": german},
            rates=[RateInput(currency, price, free_over) for currency, (price, free_over) in rates.items()],
        )  # fmt: skip
        report.created.append(f"shipping {method}")
    if checkout_selectors.voucher_by_code(DEMO_VOUCHER) is None:
        checkout_settings.voucher_save(
            data=VoucherInput(code=DEMO_VOUCHER, kind="percentage", percentage="10")
        )
        report.created.append(f"voucher {DEMO_VOUCHER}")
