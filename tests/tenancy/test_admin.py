"""The operators' admin of domains: a domain the service refuses is shown on the form, never saved."""

from __future__ import annotations

from django.contrib.messages import get_messages

from apps.tenancy import services
from apps.tenancy.models import Domain, Tenant


def _operator(public_client, django_user_model) -> None:
    django_user_model.objects.create_superuser("op", "op@platform.test", "pw-operator-1")
    assert public_client.login(username="op", password="pw-operator-1")


def test_a_refused_domain_is_shown_on_the_form_and_nothing_is_saved(
    public_client, django_user_model, acme, globex, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_add(slug="acme", domain="shop.acme.test")
    _operator(public_client, django_user_model)
    globex_row = Tenant.objects.get(slug="globex")
    before = sorted(Domain.objects.values_list("domain", "tenant__slug"))

    # The form's own checks pass (a well-formed domain); domain_add refuses it: it is taken.
    response = public_client.post(
        "/admin/tenancy/domain/add/",
        {"domain": "shop.acme.test", "tenant": globex_row.pk, "is_primary": ""},
    )

    assert response.status_code == 200  # the form again, not a redirect to the list
    content = response.content.decode()
    assert "errorlist" in content and "is taken" in content
    assert not any("successfully" in str(m) for m in get_messages(response.wsgi_request))
    assert sorted(Domain.objects.values_list("domain", "tenant__slug")) == before


def test_an_accepted_domain_is_added(public_client, django_user_model, globex):
    _operator(public_client, django_user_model)
    response = public_client.post(
        "/admin/tenancy/domain/add/",
        {"domain": "blog.globex.test", "tenant": globex.pk, "is_primary": ""},
    )
    assert response.status_code == 302
    assert Domain.objects.filter(domain="blog.globex.test", tenant__slug="globex").exists()
