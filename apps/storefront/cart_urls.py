"""The shopper's cart, mounted at /cart/ (config/urls_tenant.py, next to the shop)."""

from django.urls import path

from . import cart_views as views

app_name = "cart"
urlpatterns = [
    path("", views.cart_page, name="page"),
    path("add/", views.cart_add, name="add"),
    path("update/", views.cart_update, name="update"),
    path("remove/", views.cart_remove, name="remove"),
]
