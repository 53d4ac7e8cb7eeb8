"""The checkout's steps, mounted at /checkout/ (config/urls_tenant.py)."""

from django.urls import path

from . import checkout_views as views

app_name = "checkout"
urlpatterns = [
    path("", views.checkout_index, name="index"),
    path("email/", views.email_step, name="email"),
    path("address/", views.address_step, name="address"),
    path("shipping/", views.shipping_step, name="shipping"),
    path("review/", views.review_step, name="review"),
    path("voucher/", views.voucher_apply, name="voucher"),
    path("payment/", views.payment_step, name="payment"),
    path("pay/", views.pay, name="pay"),
    path("complete/", views.complete, name="complete"),
]
