from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class StorefrontConfig(AppConfig):
    name = "apps.storefront"
    label = "storefront"
    verbose_name = gettext_lazy("Storefront")

    def ready(self) -> None:
        # Pages render the product-grid block; its products are read here, in delivery.
        from apps.pages.rendering import register_block_data

        from .product_grid import grid_data

        register_block_data("product_grid", grid_data)
