"""``setup_demo`` gives each demo tenant a living site, and running it again changes nothing.

The demo's orders are paid for (by bank transfer), and payments refuse to run inside a
transaction: the whole demo is seeded on committed data (``live_db``) and wiped afterwards.
"""

import io
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.commerce import selectors as shop
from apps.commerce.models import (
    Cart,
    Collection,
    Order,
    OrderEvent,
    PaymentStatus,
    Price,
    Product,
    ProductImage,
    StockLevel,
    Variant,
)
from apps.commerce.models import Category as ShopCategory
from apps.content.models import Category, Media, Node, NodeStatus, Tag
from apps.events.models import OutboxEvent
from apps.events.relay import drain
from apps.forum.models import Notice
from apps.pages.models import Menu, MenuItem, PageLayout
from apps.people import selectors as people
from apps.people.models import Address, Profile
from apps.storefront.demo import SeedReport
from apps.storefront.demo_orders import CUSTOMERS, GUEST, seed_orders
from apps.tenancy.models import Tenant
from apps.tenancy.resolver import tenant_cache
from tests.conftest import empty_outbox, tenant_client

from .demo_support import wipe_demo

DEMO = ("acme", "globex")
OPERATOR = "operator"  # setup_demo's platform operator


@pytest.fixture
def demo(live_db, media_root) -> Iterator[None]:
    """Both demo tenants empty of demo content, and put back as they were afterwards."""
    saved = {
        slug: Tenant.objects.filter(slug=slug).values("enabled_locales", "default_locale").get()
        for slug in DEMO
    }
    for slug in DEMO:
        wipe_demo(slug)
    yield
    connection.set_schema_to_public()
    for slug in DEMO:
        wipe_demo(slug)
        Tenant.objects.filter(slug=slug).update(**saved[slug])
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_user WHERE username = %s", [OPERATOR])
    empty_outbox()
    tenant_cache.clear_local()


def _counts(schema: str) -> dict[str, int]:
    with schema_context(schema):
        return {
            "posts": Node.objects.filter(kind="post", status=NodeStatus.PUBLISHED).count(),
            "pages": Node.objects.filter(kind="page", status=NodeStatus.PUBLISHED).count(),
            "layouts": PageLayout.objects.count(),
            "menus": Menu.objects.count(),
            "items": MenuItem.objects.count(),
            "media": Media.objects.count(),
            "tags": Tag.objects.count(),
            "products": Product.objects.filter(status="active").count(),
            "product_versions": sum(Product.objects.values_list("version", flat=True)),
            "variants": Variant.objects.count(),
            "prices": Price.objects.count(),
            "images": ProductImage.objects.count(),
            "stock": sum(StockLevel.objects.values_list("on_hand", flat=True)),
            "collections": Collection.objects.count(),
            "shop_categories": ShopCategory.objects.count(),
            "customers": shop.customers().count(),
            "addresses": Address.objects.count(),
            "orders": Order.objects.count(),
            "order_events": OrderEvent.objects.count(),
            "carts": Cart.objects.count(),
        }


SHOP_CURRENCIES = {"acme": ("EUR", ["EUR", "USD"]), "globex": ("USD", ["USD", "EUR"])}


def _check_shop(slug: str, media_root) -> None:
    """A dozen active products with options, variants priced in both currencies, stock in two
    locations, two pictures each (stored), German text, two collections, a few categories."""
    with schema_context(slug):
        settings = shop.store_settings()
        assert (settings.default_currency, settings.enabled_currencies) == SHOP_CURRENCIES[slug]
        products = list(shop.products())
        assert len(products) == 12 and all(p.status == "active" for p in products)
        locations = list(shop.locations(active_only=True))
        assert len(locations) == 2
        option_names = set()
        for product in products:
            assert shop.product_text(product, "de").title != product.title
            option_names.update(option.name for option in product.options.all())
            variants = list(product.variants.all())
            assert variants
            for variant in variants:
                assert {price.currency for price in variant.prices.all()} == {"EUR", "USD"}
                levels = shop.stock_levels(variant_id=variant.pk)
                assert levels.count() == (2 if variant.tracked else 0)
            images = list(shop.product_images(product.pk))
            assert [image.position for image in images] == [0, 1]
            for image in images:
                assert image.alt("de") != image.alt("en") and image.width == image.height == 800
                assert (media_root / slug / image.file.name).is_file()
        assert sum(len(p.variants.all()) for p in products) > 30
        assert any(len(p.options.all()) == 2 for p in products)
        assert {"Size", "Colour"} <= option_names
        assert len(shop.categories()) >= 4
        collections = list(shop.collections())
        assert len(collections) == 2
        assert all(len(shop.collection_product_ids(c.pk)) >= 4 for c in collections)


# Each demo order: its status, its payment, and how many events its stream holds.
ORDER_STATES = Counter(
    {
        ("pending", "unpaid", 1): 1,
        ("confirmed", "unpaid", 2): 1,
        ("paid", "paid", 3): 1,
        ("fulfilled", "paid", 3): 1,
        ("delivered", "paid", 4): 1,
        ("cancelled", "unpaid", 2): 1,
        ("delivered", "partially_refunded", 5): 1,
        ("refunded", "refunded", 3): 1,
    }
)


def _check_customers_and_orders(slug: str) -> None:
    """Three customers with a display name and an address each (logins that work); eight
    orders, one in each state, every one with its history, one of them a guest's."""
    with schema_context(slug):
        customers = {customer.username: customer for customer in shop.customers()}
        assert set(customers) == {f"{c.handle}@{slug}.test" for c in CUSTOMERS[slug]}
        for spec in CUSTOMERS[slug]:
            customer = customers[f"{spec.handle}@{slug}.test"]
            assert not customer.is_staff and customer.check_password(f"{slug}-customer-pass")
            assert people.display_name(customer) == spec.display_name
            [address] = people.addresses(customer.pk)
            assert (address.city, address.country) == (
                spec.address["city"],
                spec.address["country"],
            )
        orders = list(shop.orders())
        states = Counter(
            (order.status, order.payment_status, len(shop.order_stream(order.pk)))
            for order in orders
        )
        assert states == ORDER_STATES
        by_customer = Counter(order.customer_id for order in orders)
        assert by_customer[None] == 1 and len(by_customer) == 4  # every customer ordered
        guest = next(order for order in orders if order.customer_id is None)
        assert (guest.email, guest.status) == (GUEST[0], "cancelled")
        for order in orders:
            placed = shop.order_stream(order.pk)[0]
            assert placed.type == "commerce.order.placed" and order.total > 0
            assert order.payment_provider == "manual" and order.lines.exists()
        partly = next(o for o in orders if o.payment_status == PaymentStatus.PARTIALLY_REFUNDED)
        assert 0 < partly.refunded_amount < partly.total
        assert not Cart.objects.exists()  # every cart became an order


def test_setup_demo_seeds_both_tenants_and_is_idempotent(demo, media_root, mailoutbox):
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    printed = out.getvalue()
    assert "demo site" in printed
    # The customers' logins are printed with the admins'.
    assert "customer: lena@acme.test / acme-customer-pass" in printed
    assert "customer: maya@globex.test / globex-customer-pass" in printed
    for slug in DEMO:
        assert Tenant.objects.get(slug=slug).locales == ["en", "de"]
        counts = _counts(slug)
        assert counts["posts"] == 10 and counts["pages"] == 4 and counts["menus"] == 2
        assert counts["media"] >= 10 and counts["tags"] >= 3
        with schema_context(slug):
            german = Node.objects.filter(kind="post", translations__locale="de").count()
            dates = set(
                Node.objects.filter(kind="post").values_list("published_at__date", flat=True)
            )
        assert german == 10 and len(dates) > 1  # two locales; spread over several days
        _check_shop(slug, media_root)
        _check_customers_and_orders(slug)
    # The relay takes every event, the order emails' handler among them, without a failure.
    relayed = drain()
    assert (relayed.failed, relayed.dead, relayed.more) == (0, 0, False)
    # The demo forum's replies and mentions notify its members (tests/storefront/test_demo_forum).
    forum_mail = [message for message in mailoutbox if "/forum/" in message.body]
    order_mail = [message for message in mailoutbox if message not in forum_mail]
    with schema_context("acme"):
        acme_notices = Notice.objects.count()
    with schema_context("globex"):
        assert len(forum_mail) == acme_notices + Notice.objects.count() > 0
    assert len(order_mail) == 2 * (8 + 3)  # a confirmation for each order, three shipped
    german = [message.subject for message in order_mail if message.to == ["lena@acme.test"]]
    assert german and all(subject.startswith("Ihre Bestellung") for subject in german)
    assert {message.to[0] for message in mailoutbox} >= {"lena@acme.test", GUEST[0]}

    before = {slug: _counts(slug) for slug in DEMO}
    events = OutboxEvent.objects.count()
    call_command("setup_demo", stdout=io.StringIO())
    assert {slug: _counts(slug) for slug in DEMO} == before
    assert OutboxEvent.objects.count() == events  # nothing written the second time
    acme_client, globex_client = tenant_client("acme"), tenant_client("globex")

    home = acme_client.get("/").content.decode()
    assert "Welcome to Acme Test" in home and 'aria-label="Main"' in home
    # The home page's product grid shows the shop's featured products, priced.
    assert home.count('class="product-card"') == 4 and "Ridgeline 2 tent" in home
    assert 'href="/shop/ridgeline-2-tent/"' in home and "€349.00" in home
    german_home = globex_client.get("/?lang=de").content.decode()
    assert "Ausgewählte Produkte" in german_home and 'class="product-card"' in german_home
    assert acme_client.get("/about/team/").status_code == 200
    assert globex_client.get("/ueber-uns/geschichte/?lang=de").status_code == 200
    assert acme_client.get("/blog/").status_code == 200
    # Categories and tags are named in German too.
    with schema_context("acme"):
        assert Category.objects.get(slug="guides").name_in("de") == "Ratgeber"
        assert Tag.objects.get(slug="outdoors").name_in("de") == "Draußen"
    german = acme_client.get("/blog/category/news/?lang=de").content.decode()
    assert "<h1>Neuigkeiten</h1>" in german
    assert 'rel="tag">Nachhaltigkeit</a>' in german
    # The demo's writers are shown by their display names, never by their login emails.
    with schema_context("acme"):
        names = dict(Profile.objects.values_list("user__username", "display_name"))
        by_ada = Node.objects.filter(kind="post", author__username="ada@acme.test").first()
        slug = by_ada.translations.get(locale="en").slug
    # (the German category page above made German this client's choice: ask for English)
    post_page = acme_client.get(f"/blog/{slug}/?lang=en").content.decode()
    assert "Ada L." in post_page and "ada@acme.test" not in post_page
    assert names["ada@acme.test"] == "Ada L." and names["jonas@acme.test"] == "Jonas on the trail"


def test_seeding_needs_the_locales(db):
    with pytest.raises(Exception, match="enable the locales"):
        call_command("seed_demo_site", "acme", stdout=io.StringIO())


def test_demo_orders_refuse_to_be_seeded_inside_a_transaction(db):
    """Paying for them needs committed data: inside ``atomic()`` they refuse before any write."""
    with schema_context("acme"), pytest.raises(RuntimeError, match="outside transaction"):
        seed_orders(slug="acme", customers=[], report=SeedReport())
    with schema_context("acme"):
        assert not Cart.objects.exists() and not Order.objects.exists()
