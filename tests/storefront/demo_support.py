"""Taking the demo away again: what ``seed_site`` writes in a tenant, for tests that seed it on
committed data (``live_db``, the browser suite)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from apps.storefront.demo import AUTHORS
from apps.storefront.demo_forum import moderator_logins
from apps.storefront.demo_orders import customer_logins

# TRUNCATE, not DELETE: an order's stream refuses DELETE. CASCADE takes translations, lines,
# variants, prices, stock, images, menu items, layouts and the rest along.
DEMO_TABLES = (
    "content_node, content_category, content_tag, content_media, pages_menu, "
    "index_content_listing, index_aggregate_activity, events_processed, django_admin_log, "
    "django_session, commerce_product, commerce_collection, commerce_category, "
    "commerce_location, commerce_storesettings, index_product_listing, commerce_cart, "
    "commerce_checkout, commerce_reservation, commerce_stockadjustment, commerce_order, "
    "commerce_orderline, commerce_orderevent, commerce_orderemail, commerce_paymentattempt, "
    "commerce_voucher, commerce_voucheruse, commerce_shippingzone, commerce_taxrate, "
    "forum_forumcategory, forum_topic, forum_member, index_forum_topic, index_forum_category"
)


def demo_users(slug: str) -> list[str]:
    """The usernames the demo makes in tenant ``slug``: its writers, its customers and its
    forum's moderator."""
    writers = [f"{handle}@{slug}.test" for handle, *_names in AUTHORS]
    logins = [*customer_logins(slug), *moderator_logins(slug)]
    return writers + [email for email, _password in logins]


def wipe_demo(slug: str) -> None:
    """Empty what the demo seeds in tenant ``slug`` (its schema is its slug in the tests)."""
    with schema_context(slug), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {DEMO_TABLES} CASCADE")
        get_user_model().objects.filter(username__in=demo_users(slug)).delete()
