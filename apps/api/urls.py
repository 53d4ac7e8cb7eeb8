"""The REST API of a tenant, mounted at /api/v1/ by config.urls_tenant."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import (
    carts,
    commerce,
    feed,
    forum,
    media,
    nodes,
    orders,
    pages,
    posts,
    taxonomy,
    views,
    webhooks,
)

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("nodes", nodes.NodeViewSet, basename="node")
router.register("posts", posts.PostViewSet, basename="post")
router.register("pages", pages.PageViewSet, basename="page")
router.register("categories", taxonomy.CategoryViewSet, basename="category")
router.register("tags", taxonomy.TagViewSet, basename="tag")
router.register("media", media.MediaViewSet, basename="media")
router.register("commerce/products", commerce.ProductViewSet, basename="commerce-product")
router.register("commerce/options", commerce.OptionViewSet, basename="commerce-option")
router.register("commerce/images", commerce.ProductImageViewSet, basename="commerce-image")
router.register("commerce/variants", commerce.VariantViewSet, basename="commerce-variant")
router.register("commerce/inventory", commerce.InventoryViewSet, basename="commerce-inventory")
router.register("commerce/locations", commerce.LocationViewSet, basename="commerce-location")
router.register("commerce/collections", commerce.CollectionViewSet, basename="commerce-collection")
router.register(
    "commerce/categories", commerce.CommerceCategoryViewSet, basename="commerce-category"
)
router.register("commerce/orders", orders.OrderViewSet, basename="commerce-order")
router.register("commerce/customers", orders.CustomerViewSet, basename="commerce-customer")
router.register("commerce/carts", carts.CartViewSet, basename="commerce-cart")
router.register("webhooks/endpoints", webhooks.EndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", webhooks.DeliveryViewSet, basename="webhook-delivery")
router.register("forum/categories", forum.ForumCategoryViewSet, basename="forum-category")
router.register("forum/topics", forum.TopicViewSet, basename="forum-topic")
router.register("forum/replies", forum.ReplyViewSet, basename="forum-reply")
router.register("forum/flags", forum.FlagViewSet, basename="forum-flag")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("events/", feed.EventFeedView.as_view(), name="events"),
    *router.urls,
    re_path(r"^(?P<path>.*)$", views.not_found),
]
