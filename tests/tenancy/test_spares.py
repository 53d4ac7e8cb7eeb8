"""Spare schemas (apps.tenancy.spares) and the first admin's set-password link.

Most tests run inside the test's transaction (``db``): the spares they copy roll back
with it. The ones about two transactions at once commit their spares and drop them.
"""

from __future__ import annotations

import threading
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connections, transaction
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from apps.tenancy import locks, spares
from apps.tenancy.errors import TenantInvalid
from apps.tenancy.models import SpareSchema, Tenant
from apps.tenancy.schema_migrations import (
    UnknownSchemas,
    exclusive_run,
    migrate_all,
    tenant_schema_lag,
)
from apps.tenancy.services import tenant_create
from apps.tenancy.template import TEMPLATE_SCHEMA, template_refresh

from .test_template import (
    PASSWORD,
    _command_output,
    _default_rows,
    _make_stale,
    _rows,
    _shape,
    signed_in_admin,
)


def _create(slug: str, **options):
    options.setdefault("admin_password", PASSWORD)
    return tenant_create(slug=slug, name=slug.title(), admin_email=f"owner@{slug}.test", **options)


def _spare_names() -> list[str]:
    return list(SpareSchema.objects.order_by("pk").values_list("name", flat=True))


@pytest.fixture
def committed_spares(live_db):
    """Spares that really commit (seen by other connections), dropped after the test."""
    yield
    with transaction.atomic():
        spares.spares_drop()


# --- the pool -----------------------------------------------------------------------------


def test_refill_copies_the_template_until_the_target(db):
    assert _spare_names() == []
    result = spares.spares_refill(2)
    assert (result.created, result.dropped, result.ready, result.skipped) == (2, 0, 2, "")
    names = _spare_names()
    assert names == result.names and all(name.startswith("_spare_") for name in names)
    assert all(schema_exists(name) for name in names)
    assert spares.spares_refill(2).created == 0  # full
    # A smaller target drops the spares beyond it.
    assert (spares.spares_refill(1).dropped, len(_spare_names())) == (1, 1)


def test_a_refill_runs_while_a_migrate_tenants_run_holds_its_lock(db):
    """Their locks are two keys: beat's refill every 30 s never makes a migration run refuse
    to start, nor a run stop the refill."""
    assert len(set(locks.KEYS)) == len(locks.KEYS)
    with exclusive_run():
        result = spares.spares_refill(1)
    assert (result.created, result.skipped) == (1, "")


def test_taking_a_spare_is_three_statements_whatever_the_pool(db, django_assert_num_queries):
    spares.spares_refill(3)
    first = _spare_names()[0]
    with transaction.atomic(), django_assert_num_queries(3):  # lock one, rename it, its row
        assert spares.spare_take("taken_one")
    assert schema_exists("taken_one") and not schema_exists(first)
    assert len(_spare_names()) == 2


def test_a_spare_is_no_tenant_and_no_slug_reaches_it(db):
    spares.spares_refill(1)
    (name,) = _spare_names()
    assert not Tenant.objects.filter(schema_name=name).exists()
    with pytest.raises(TenantInvalid, match="slug"):
        _create(name)
    # migrate_tenants lists tenants and the template only.
    assert name not in tenant_schema_lag() and TEMPLATE_SCHEMA in tenant_schema_lag()
    with pytest.raises(UnknownSchemas, match=name):
        tenant_schema_lag([name])


def test_the_spare_path_makes_a_tenant_equal_to_a_cloned_one(db):
    spares.spares_refill(1)
    spared = _create("spared-eq")
    cloned = _create("cloned-eq", via="clone")
    assert (spared.path, cloned.path) == ("spare", "clone")
    assert _spare_names() == []

    spared_shape, cloned_shape = _shape("spared_eq"), _shape("cloned_eq")
    assert len(spared_shape["indexes"]) > 200
    for part in cloned_shape:
        assert spared_shape[part] == cloned_shape[part], part
    definitions = [d for _t, _n, kind, d in spared_shape["constraints"] if kind == "f"]
    assert any("REFERENCES <s>.auth_user(id)" in d for d in definitions)
    assert not any("_spare_" in str(value) for value in spared_shape.values())
    assert _default_rows("spared_eq") == _default_rows("cloned_eq")


def test_a_renamed_spare_has_its_own_sequences_and_trigger(db):
    spares.spares_refill(1)
    assert _create("seq-spare").path == "spare"
    with schema_context("seq_spare"):
        tag = _rows("INSERT INTO content_tag (name, slug, translations) VALUES ('a', 'a', '{}') "
                    "RETURNING id")[0][0]  # fmt: skip
    assert tag == 1
    assert _rows("SELECT pg_get_serial_sequence('seq_spare.auth_group', 'id')") == [
        ("seq_spare.auth_group_id_seq",)
    ]
    assert _rows(
        "SELECT p.pronamespace::regnamespace::text FROM pg_trigger t JOIN pg_proc p "
        "ON p.oid = t.tgfoid WHERE t.tgrelid = 'seq_spare.commerce_orderevent'::regclass"
    ) == [("seq_spare",)]


def test_a_spare_tenant_serves_its_storefront_and_admin(db):
    spares.spares_refill(1)
    assert _create("spare-shop").path == "spare"
    assert Client(HTTP_HOST="spare-shop.localhost").get("/").status_code == 200
    client = signed_in_admin("spare-shop.localhost", "owner@spare-shop.test")
    assert client.get("/admin/auth/group/").status_code == 200


def test_a_stale_spare_is_never_used_and_refill_drops_it(db, monkeypatch):
    spares.spares_refill(1)
    (old,) = _spare_names()
    monkeypatch.setattr(spares, "current_state", lambda: "f" * 64)  # the code's migrations moved
    assert _create("after-change").path == "clone"
    with pytest.raises(TenantInvalid, match="no spare"):
        _create("insists-spare", via="spare")
    assert _spare_names() == [old]
    assert [spare.current for spare in spares.spares_list()] == [False]

    result = spares.spares_refill(1)
    assert (result.dropped, result.created) == (1, 1)
    assert old not in _spare_names() and not schema_exists(old)
    assert SpareSchema.objects.get().template_state == "f" * 64


def test_template_refresh_drops_every_spare_when_it_rebuilds(db):
    spares.spares_refill(2)
    names = _spare_names()
    assert template_refresh() == "current"
    assert _spare_names() == names  # copies of a template that did not change stay
    _make_stale()
    assert template_refresh() == "migrated"
    assert _spare_names() == [] and not any(schema_exists(name) for name in names)


def test_template_refresh_of_a_current_template_drops_the_stale_spares(db, monkeypatch):
    spares.spares_refill(1)
    SpareSchema.objects.update(template_state="0" * 64)  # copied before a migration
    assert template_refresh() == "current"
    assert _spare_names() == []


def test_migrate_tenants_ends_by_dropping_the_spares_copied_before_it(db):
    spares.spares_refill(2)
    old, kept = _spare_names()
    SpareSchema.objects.filter(name=old).update(template_state="0" * 64)  # before the migration
    summary = migrate_all(tenants_only=True, schemas=[TEMPLATE_SCHEMA])
    assert summary.ok and summary.template_refreshed
    assert _spare_names() == [kept] and not schema_exists(old)


def test_with_the_pool_off_tenants_are_cloned_and_refill_empties_it(db, settings):
    spares.spares_refill(1)
    settings.TENANT_SPARE_SCHEMAS = 0
    assert _create("no-pool").path == "clone"
    assert len(_spare_names()) == 1
    assert spares.spares_refill().dropped == 1 and _spare_names() == []


def test_refill_copies_nothing_from_a_stale_template(db):
    _make_stale()
    result = spares.spares_refill(2)
    assert (result.created, result.skipped) == (0, "the template schema is stale")
    assert _create("stale-pool").path == "migrate"


def test_a_failure_after_taking_the_spare_gives_it_back(db, monkeypatch):
    spares.spares_refill(1)
    (name,) = _spare_names()

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.tenancy.services._create_admin", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        _create("doomed-spare")
    assert _spare_names() == [name] and schema_exists(name)
    assert not Tenant.objects.filter(slug="doomed-spare").exists()
    assert not schema_exists("doomed_spare")


def test_two_transactions_never_take_the_same_spare(committed_spares):
    assert spares.spares_refill(1).created == 1
    (name,) = _spare_names()
    taken, holding, release = [], threading.Event(), threading.Event()

    def first_taker():
        try:
            with transaction.atomic():
                taken.append(spares.spare_take("first_taker"))
                holding.set()
                release.wait(10)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        finally:
            holding.set()
            connections.close_all()

    thread = threading.Thread(target=first_taker)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            assert spares.spare_take("second_taker") is False  # skipped, not waited for
    finally:
        release.set()
        thread.join(10)
    assert taken == [True]
    assert _spare_names() == [name] and schema_exists(name)  # rolled back: a spare again
    assert not schema_exists("first_taker")


# --- the first admin's set-password link --------------------------------------------------


def test_without_a_password_the_admin_gets_a_link_and_no_usable_password(db):
    result = _create("linked-shop", admin_password=None)
    assert result.admin_password is None
    url = urlsplit(result.admin_setup_url)
    assert (url.scheme, url.netloc) == ("http", "linked-shop.localhost")
    assert url.path.startswith("/account/reset/")
    with schema_context("linked_shop"):
        admin = get_user_model().objects.get(username="owner@linked-shop.test")
        assert admin.is_superuser and admin.is_staff and not admin.has_usable_password()


def test_an_empty_password_is_no_password(db):
    result = _create("empty-pw-shop", admin_password="")
    assert result.admin_password is None and result.admin_setup_url
    with schema_context("empty_pw_shop"):
        admin = get_user_model().objects.get(username="owner@empty-pw-shop.test")
        assert not admin.has_usable_password() and not admin.check_password("")


def test_the_link_is_on_the_custom_domain_when_there_is_one(db):
    result = _create("domain-shop", admin_password=None, domain="shop.domain.test")
    assert urlsplit(result.admin_setup_url).netloc == "shop.domain.test"


def test_the_set_password_link_works_once_and_opens_the_admin(db):
    spares.spares_refill(1)
    result = _create("setup-shop", admin_password=None)
    assert result.path == "spare"
    url = urlsplit(result.admin_setup_url)
    client = Client(HTTP_HOST=url.netloc)
    form_page = client.get(url.path, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    new_password = "a-brand-new-Password-9"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302 and done["Location"].endswith("/account/reset/done/")

    signed_in_admin(url.netloc, "owner@setup-shop.test", new_password)
    # Used once: the token was made with the old (unusable) password.
    again = Client(HTTP_HOST=url.netloc).get(url.path, follow=True)
    assert b"new_password1" not in again.content


def test_a_given_password_is_hashed_and_no_link_is_made(db):
    result = _create("given-shop")
    assert (result.admin_password, result.admin_setup_url) == (PASSWORD, None)
    with schema_context("given_shop"):
        admin = get_user_model().objects.get(username="owner@given-shop.test")
        assert admin.check_password(PASSWORD)


# --- the commands -------------------------------------------------------------------------


def test_create_tenant_prints_the_link_when_no_password_is_given(db):
    spares.spares_refill(1)
    buffer = StringIO()
    call_command(
        "create_tenant",
        slug="cmd-link",
        name="Cmd Link",
        admin_email="boss@cmd-link.test",
        stdout=buffer,
    )
    out = buffer.getvalue()
    assert "Created tenant cmd-link (schema cmd_link) by spare in" in out
    assert "set a password at (one time): http://cmd-link.localhost/account/reset/" in out
    assert "password:" not in out


def test_tenant_spares_lists_and_refills_the_pool(db):
    out = _command_output("tenant_spares", refill=True, target=2)
    assert "copied 1/2" in out and "copied 2/2" in out
    assert "Spares: 2 copied, 0 dropped, 2 ready" in out
    names = _spare_names()
    assert all(name in out for name in names)
    assert "2 current spare(s) of 2 wanted, 0 stale" in out
    SpareSchema.objects.filter(name=names[0]).update(template_state="0" * 64)
    listing = _command_output("tenant_spares", target=2)
    assert f"{names[0]}" in listing and "stale" in listing
    assert "1 current spare(s) of 2 wanted, 1 stale" in listing


def test_beat_keeps_the_pool_full(db, settings):
    from apps.tenancy.tasks import refill_spares

    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert schedule["tenancy.refill_spares"] == 30.0
    settings.TENANT_SPARE_SCHEMAS = 2
    assert refill_spares() == 2 and len(_spare_names()) == 2
    assert refill_spares() == 0
