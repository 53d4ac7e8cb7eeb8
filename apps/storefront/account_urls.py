"""Customer accounts, mounted at /account/ (config/urls_tenant.py)."""

from django.urls import path

from . import account_views as views

app_name = "account"
urlpatterns = [
    path("", views.account_home, name="home"),
    path("signup/", views.signup_view, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetSentView.as_view(), name="password_reset_sent"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("orders/<int:number>/", views.account_order, name="order"),
    path("addresses/new/", views.address_add, name="address_add"),
    path("addresses/<int:address_id>/", views.address_edit, name="address_edit"),
    path("addresses/<int:address_id>/delete/", views.address_delete, name="address_delete"),
    path(
        "addresses/<int:address_id>/default/",
        views.address_make_default,
        name="address_default",
    ),
]
