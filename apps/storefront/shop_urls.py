"""The shop's public URLs, mounted at /shop/ (config/urls_tenant.py)."""

from django.urls import path

from . import shop_views as views

app_name = "shop"
urlpatterns = [
    path("", views.shop_index, name="index"),
    path("<slug:handle>/", views.product_detail, name="product"),
]
