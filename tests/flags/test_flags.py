"""django-waffle's flags per tenant: answered from the tenant's own flags, without a query once
warm, changed in the admin and seen by the next request, and answered with Redis away."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context
from waffle.models import Flag

from apps.core.breakers import REDIS, breaker
from apps.core.flags import flag_on_for_everyone
from apps.forum import services
from apps.forum.flags import MENTIONS
from tests.conftest import as_tenant_admin, tenant_client
from tests.forum import factories
from tests.storefront.forum_support import category, signed_in, text
from tests.storefront.forum_support import topic as start

from .support import ask, set_flag

BETA = "beta_checkout"
LINK = 'href="/forum/u/bob-example/"'  # Bob's mention, linked to his page


@pytest.fixture
def alice(acme):
    with schema_context("acme"):
        return factories.member("Alice Example")


@pytest.fixture
def bob(acme):
    """A member with a handle (``bob-example``), to be mentioned."""
    with schema_context("acme"):
        user = factories.member("Bob Example")
        services.member_for(user)
        return user


@pytest.fixture
def thread(acme, alice):
    return start(category(name="Help"), alice, "Printer trouble", "It jams.")


def preview(client, thread) -> str:
    """The reply form's preview of a mention of Bob: a request that asks the mentions flag
    and writes nothing."""
    response = client.post(
        f"/forum/topic/{thread.pk}/reply/", {"body": "Ask @bob-example", "preview": "1"}
    )
    assert response.status_code == 200
    return text(response)


def _waffle_keys() -> list[str]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    return sorted(key.decode() for key in client.keys("*waffle*"))


# -- one tenant's flags never answer for another -----------------------------------------------


def test_the_same_flag_answers_for_each_tenant_from_its_own_settings(acme, globex, alice):
    set_flag("acme", BETA, everyone=True)
    set_flag("globex", BETA, everyone=False)
    anyone = AnonymousUser()
    for _ in range(2):  # cold, then from the cache
        assert ask("acme", anyone, BETA) is True
        assert ask("globex", anyone, BETA) is False
        assert ask("acme", alice, BETA) is True

    keys = _waffle_keys()
    assert any(key.startswith("acme:") for key in keys), keys
    assert any(key.startswith("globex:") for key in keys), keys
    assert all(key.startswith(("acme:", "globex:")) for key in keys), keys


def test_a_flag_only_one_tenant_has_is_off_for_the_others(acme, globex):
    set_flag("globex", BETA, everyone=True)
    assert ask("globex", AnonymousUser(), BETA) is True
    assert ask("acme", AnonymousUser(), BETA) is False
    with schema_context("acme"):
        assert not Flag.objects.filter(name=BETA).exists()  # asking did not create it


def test_every_tenant_has_the_mentions_flag_off_until_its_administrators_roll_it_out(
    acme, globex, alice
):
    for schema in ("acme", "globex"):
        with schema_context(schema):
            flag = Flag.objects.get(name=MENTIONS)
            assert (flag.everyone, flag.percent, flag.users.count(), flag.groups.count()) == (
                None, None, 0, 0,
            )  # fmt: skip
            assert "@mentions" in flag.note
    assert ask("acme", alice) is False


def test_flag_on_for_everyone_turns_it_on_once(acme):
    with schema_context("acme"):
        assert flag_on_for_everyone(MENTIONS) is True
        assert flag_on_for_everyone(MENTIONS) is False
        assert flag_on_for_everyone("brand_new") is True
    assert ask("acme", AnonymousUser()) is True
    assert ask("acme", AnonymousUser(), "brand_new") is True


# -- who a flag is on for ------------------------------------------------------------------------


def test_percentages(acme, alice):
    """0 %: nobody; waffle's highest, 99.9 %, nearly everyone; 50 %, about half (each visitor
    without the cookie draws anew). 100 % is "everyone: yes"."""
    random.seed(20261207)  # the draws are waffle's random.uniform: the same ones each run
    set_flag("acme", percent=0)
    assert [ask("acme", alice) for _ in range(200)] == [False] * 200
    set_flag("acme", percent=Decimal("99.9"))
    assert sum(ask("acme", alice) for _ in range(200)) >= 199
    set_flag("acme", percent=50)
    assert 70 <= sum(ask("acme", alice) for _ in range(200)) <= 130


def test_a_percentage_draw_is_kept_in_the_visitors_cookie(acme, alice):
    set_flag("acme", percent=50)
    cookie = f"dwf_{MENTIONS}"
    assert [ask("acme", alice, **{cookie: "True"}) for _ in range(10)] == [True] * 10
    assert [ask("acme", alice, **{cookie: "False"}) for _ in range(10)] == [False] * 10


def test_the_rollout_draw_is_set_in_the_responses_cookie_and_kept(acme, alice, bob, thread):
    set_flag("acme", percent=50)
    client = signed_in(alice)
    first = client.post(
        f"/forum/topic/{thread.pk}/reply/", {"body": "Ask @bob-example", "preview": "1"}
    )
    drawn = first.cookies[f"dwf_{MENTIONS}"].value
    assert drawn in ("True", "False")
    assert (LINK in text(first)) is (drawn == "True")
    # The client sends the cookie back: the same answer every time after.
    assert {LINK in preview(client, thread) for _ in range(10)} == {drawn == "True"}


def test_user_targeting(acme, alice, bob):
    set_flag("acme", users=[alice])
    assert ask("acme", alice) is True
    assert ask("acme", bob) is False
    assert ask("acme", AnonymousUser()) is False


def test_group_targeting(acme, alice, bob):
    with schema_context("acme"):
        testers = Group.objects.create(name="Beta testers")
        bob.groups.add(testers)
    set_flag("acme", groups=[testers])
    assert ask("acme", bob) is True
    assert ask("acme", alice) is False


# -- no query once warm -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings_of", "expected"),
    [
        ({"everyone": True}, True),
        ({"everyone": False}, False),
        ({"percent": Decimal("99.9")}, True),
        ({"percent": 0}, False),
        ({"users": "alice"}, True),
        ({"users": "bob"}, False),
        ({}, False),
    ],
    ids=["everyone", "no-one", "percent-99.9", "percent-0", "user", "other-user", "undecided"],
)
def test_a_warm_check_costs_no_query(
    acme, alice, bob, django_assert_num_queries, settings_of, expected
):
    people = {"alice": alice, "bob": bob}
    random.seed(20261207)  # the draws at 99.9 %: the same each run (both in)
    if "users" in settings_of:
        settings_of = {**settings_of, "users": [people[settings_of["users"]]]}
    set_flag("acme", **settings_of)
    assert ask("acme", alice) is expected  # cold: read from the database into the cache
    with django_assert_num_queries(0):
        assert ask("acme", alice) is expected
    assert ask("acme", alice, "never_created") is False  # its absence is cached too
    with django_assert_num_queries(0):
        assert ask("acme", alice, "never_created") is False


def test_a_group_targeted_flag_costs_the_members_groups_and_nothing_else(acme, alice, bob):
    with schema_context("acme"):
        testers = Group.objects.create(name="Beta testers")
        bob.groups.add(testers)
    set_flag("acme", groups=[testers])
    assert ask("acme", bob) is True
    with CaptureQueriesContext(connection) as warm:
        assert ask("acme", bob) is True
    # (Besides the SET search_path of the switch to acme that this test makes.)
    reads = [q["sql"] for q in warm.captured_queries if not q["sql"].startswith("SET ")]
    assert len(reads) == 1 and "auth_user_groups" in reads[0], reads


def test_a_warm_request_reads_no_flag_from_the_database(acme, alice, bob, thread):
    set_flag("acme", everyone=True)
    client = signed_in(alice)
    with CaptureQueriesContext(connection) as cold:
        assert LINK in preview(client, thread)
    assert any("waffle_flag" in query["sql"] for query in cold.captured_queries)

    with CaptureQueriesContext(connection) as warm:
        assert LINK in preview(client, thread)
    assert warm.captured_queries  # the page's own reads
    assert not [query["sql"] for query in warm.captured_queries if "waffle" in query["sql"]]


# -- a change is seen at once --------------------------------------------------------------------


def test_a_change_in_the_admin_is_seen_by_the_next_request(
    acme, alice, bob, thread, django_capture_on_commit_callbacks
):
    flag = set_flag("acme", everyone=False, note="Mentions")
    member = signed_in(alice)
    assert LINK not in preview(member, thread)  # and the flag is cached: off
    assert any(key.startswith("acme:") for key in _waffle_keys())

    administrator = as_tenant_admin(tenant_client("acme"))
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator.post(
            f"/admin/waffle/flag/{flag.pk}/change/",
            {"name": MENTIONS, "everyone": "true", "percent": "", "languages": "",
             "note": "Mentions", "users": "", "groups": [],
             "created_0": "2026-12-01", "created_1": "09:00:00",
             "modified_0": "2026-12-01", "modified_1": "09:00:00"},
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()

    assert LINK in preview(member, thread)


def test_an_administrators_bulk_action_is_seen_by_the_next_request(
    acme, alice, bob, thread, django_capture_on_commit_callbacks
):
    flag = set_flag("acme", everyone=True)
    member = signed_in(alice)
    assert LINK in preview(member, thread)

    administrator = as_tenant_admin(tenant_client("acme"))
    with django_capture_on_commit_callbacks(execute=True):
        response = administrator.post(
            "/admin/waffle/flag/",
            {"action": "disable_for_all", "_selected_action": [flag.pk], "index": 0},
        )
    assert response.status_code == 302

    assert LINK not in preview(member, thread)


# -- Redis away ----------------------------------------------------------------------------------


def test_with_redis_away_flags_are_read_from_the_database(acme, alice, bob, thread, settings):
    set_flag("acme", users=[alice])
    settings.CACHES = {
        **settings.CACHES,
        "flags": {**settings.CACHES["flags"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    member = signed_in(alice)
    for _ in range(5):  # failures, then the breaker open: never a 500
        assert ask("acme", alice) is True
        assert ask("acme", bob) is False
        assert LINK in preview(member, thread)
    assert breaker(REDIS).current_state == "open"
