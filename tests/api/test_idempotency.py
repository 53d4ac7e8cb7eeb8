"""``Idempotency-Key`` on POSTs: replays, refusals, scoping, expiry and a request in flight."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.api import idempotency
from apps.api.models import IdempotentResponse
from apps.api.tasks import prune_idempotent_responses
from apps.api.urls import router
from apps.api.viewsets import ApiViewSetMixin
from apps.content import services as content_services
from apps.content.models import Node
from apps.core.errors import ServiceUnavailable
from apps.events.models import OutboxEvent
from apps.tenancy.services import work_due
from tests.conftest import tenant_client

from .conftest import assert_problem, login_as, make_node, png
from .test_api_keys import bearer, make_key, staff_owner

User = get_user_model()
POSTS = "/api/v1/posts/"
JSON = "application/json"
KEY = "order-7f3c2a"
REQUEST_QUERIES = 2  # before a superuser's view runs: the session, the user


def create_post(client: Client, title: str = "Hello", key: str | None = KEY, **extra):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    body = json.dumps({"translations": {"en": {"title": title}}})
    return client.post(POSTS, body, content_type=JSON, **headers, **extra)


def posts_in(schema: str = "acme") -> int:
    with schema_context(schema):
        return Node.objects.filter(kind="post").count()


def test_every_view_set_is_idempotent_and_conditional():
    for _prefix, viewset, _basename in router.registry:
        assert issubclass(viewset, ApiViewSetMixin), viewset


def test_every_post_operation_documents_the_header(acme_api):
    schema = acme_api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    posts = [(path, item["post"]) for path, item in schema["paths"].items() if "post" in item]
    assert len(posts) > 20
    for path, operation in posts:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        assert {"409", "422"} <= set(operation["responses"]), path


@pytest.mark.django_db
def test_a_retry_replays_the_first_answer_and_creates_nothing(acme_api):
    first = create_post(acme_api)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    events = OutboxEvent.objects.count()

    again = create_post(acme_api)
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert posts_in() == 1
    assert OutboxEvent.objects.count() == events  # no second effect, no second event

    # Without the key it is a new request.
    assert create_post(acme_api, "Other", key=None).status_code == 201
    assert posts_in() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422(acme_api):
    assert create_post(acme_api, "Hello").status_code == 201
    body = assert_problem(create_post(acme_api, "Goodbye"), 422, "idempotency_key_reused")
    assert "Idempotency-Key" in body["detail"]
    assert posts_in() == 1
    # The same JSON written another way is the same body.
    same = acme_api.post(
        POSTS, '{ "translations" : {"en": {"title": "Hello"}} }', content_type=JSON,
        HTTP_IDEMPOTENCY_KEY=KEY,
    )  # fmt: skip
    assert same.status_code == 201
    assert same["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_4xx_is_stored_and_replayed(acme_api):
    body = json.dumps({"translations": {"en": {"title": ""}}})
    first = acme_api.post(POSTS, body, content_type=JSON, HTTP_IDEMPOTENCY_KEY=KEY)
    assert_problem(first, 400, "invalid")
    again = acme_api.post(POSTS, body, content_type=JSON, HTTP_IDEMPOTENCY_KEY=KEY)
    assert_problem(again, 400, "invalid")
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_a_5xx_is_not_stored(acme_api, monkeypatch):
    """A 503 (and a crash) leaves the key free: the client's retry runs the request."""
    real = content_services.node_create
    failures = [ServiceUnavailable("catching up", retry_after=3), RuntimeError("crash")]

    def failing_once(**kwargs):
        if failures:
            raise failures.pop(0)
        return real(**kwargs)

    monkeypatch.setattr(content_services, "node_create", failing_once)
    assert_problem(create_post(acme_api), 503, "unavailable")
    acme_api.raise_request_exception = False
    assert create_post(acme_api).status_code == 500
    assert not IdempotentResponse.objects.using("default").filter(key=KEY).exists()

    retried = create_post(acme_api)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert posts_in() == 1
    assert create_post(acme_api)["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    ["", "   ", "x" * 256, "naïve-key", "tab\tkey", "bell\x07"],
    ids=["empty", "blank", "too-long", "non-ascii", "tab", "control"],
)
def test_a_malformed_key_is_a_400(acme_api, key):
    response = create_post(acme_api, key=key)
    assert_problem(response, 400, "idempotency_key_invalid")
    assert posts_in() == 0


@pytest.mark.django_db
def test_a_key_of_255_printable_characters_is_accepted(acme_api):
    key = "".join(chr(32 + index % 95) for index in range(255)).strip() + "~"
    key = key[-255:]
    assert create_post(acme_api, key=key).status_code == 201
    assert create_post(acme_api, key=key)["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_keys_are_scoped_by_principal_and_tenant(acme, acme_client, globex_client):
    owner = staff_owner()
    _, first_key = make_key(owner, scopes=["content:write", "content:read"])
    _, second_key = make_key(owner, scopes=["content:write", "content:read"])

    first = create_post(acme_client, "First", **bearer(first_key))
    assert first.status_code == 201
    assert create_post(acme_client, "First", **bearer(first_key))["Idempotent-Replayed"] == "true"
    # Another key of the same owner, the owner's session and another user: each its own
    # request (another body with the key is no 422 for them, and nothing is replayed).
    other_key = create_post(acme_client, "Second", **bearer(second_key))
    assert other_key.status_code == 201
    assert "Idempotent-Replayed" not in other_key
    with schema_context("acme"):
        acme_client.force_login(owner)
    session = create_post(acme_client, "Third")
    assert session.status_code == 201
    assert "Idempotent-Replayed" not in session
    login_as(acme_client, "acme", email="second@acme.test", groups=["Editor"])
    another_user = create_post(acme_client, "Fourth")
    assert another_user.status_code == 201
    assert "Idempotent-Replayed" not in another_user
    assert posts_in() == 4
    # Another path with the same key is another request too.
    with schema_context("acme"):
        acme_client.force_login(owner)
    node_id = first.json()["id"]
    published = acme_client.post(f"{POSTS}{node_id}/publish/", HTTP_IDEMPOTENCY_KEY=KEY)
    assert published.status_code == 200
    assert "Idempotent-Replayed" not in published

    # globex: its own table, its own users; the same key is new there.
    login_as(globex_client, "globex", email="editor@globex.test", groups=["Editor"])
    there = create_post(globex_client)
    assert there.status_code == 201
    assert "Idempotent-Replayed" not in there
    assert posts_in("globex") == 1


@pytest.mark.django_db
def test_an_answer_is_kept_24_hours(acme_api):
    assert create_post(acme_api).status_code == 201
    with schema_context("acme"):
        row = IdempotentResponse.objects.get()
        IdempotentResponse.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - idempotency.RETENTION + timedelta(minutes=1)
        )
    assert create_post(acme_api)["Idempotent-Replayed"] == "true"
    with schema_context("acme"):
        IdempotentResponse.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - idempotency.RETENTION - timedelta(minutes=1)
        )
    expired = create_post(acme_api, "Hello again")  # another body: no 422 any more
    assert expired.status_code == 201
    assert "Idempotent-Replayed" not in expired
    assert posts_in() == 2
    with schema_context("acme"):
        assert IdempotentResponse.objects.count() == 1  # the expired row was replaced


@pytest.mark.django_db
def test_the_beat_task_prunes_old_answers_of_every_tenant(acme, globex):
    old = timezone.now() - idempotency.RETENTION - timedelta(seconds=1)
    for schema in ("acme", "globex"):
        with schema_context(schema):
            for index, created_at in enumerate([old, old, timezone.now()]):
                IdempotentResponse.objects.create(
                    scope=f"{schema}-{index}", principal="user:1", method="POST", path=POSTS,
                    key=f"k{index}", fingerprint="0" * 64, status=201, body=b"{}",
                    created_at=created_at,
                )  # fmt: skip
            work_due(kind=idempotency.PRUNE_JOB, at=old + idempotency.RETENTION)  # as record() does
    assert prune_idempotent_responses() == 4
    for schema in ("acme", "globex"):
        with schema_context(schema):
            assert list(IdempotentResponse.objects.values_list("key", flat=True)) == ["k2"]


@pytest.mark.django_db
def test_a_multipart_upload_is_fingerprinted_by_its_file(acme_api, media_root):

    def upload(image):
        return acme_api.post(
            "/api/v1/media/", {"file": image, "alt_text.en": "A dot"}, HTTP_IDEMPOTENCY_KEY=KEY
        )

    first = upload(png(size=(3, 2)))
    assert first.status_code == 201, first.content
    assert upload(png(size=(3, 2)))["Idempotent-Replayed"] == "true"
    assert_problem(upload(png(size=(4, 2))), 422, "idempotency_key_reused")


@pytest.mark.django_db
def test_the_key_costs_four_queries_and_a_replay_runs_no_view(acme_api, django_assert_num_queries):
    create_post(acme_api, "Warm", key=None)  # warm caches (tenant, session, permissions)
    with CaptureQueriesContext(connection) as plain:
        assert create_post(acme_api, "Plain", key=None).status_code == 201
    # pg_try_advisory_lock, the lookup, then in a transaction of their own (a savepoint
    # here) the INSERT ... ON CONFLICT and the due-work mark, pg_advisory_unlock.
    with django_assert_num_queries(len(plain) + 7):
        assert create_post(acme_api, "Keyed", key="fresh").status_code == 201
    # A replay: the session and the user (as any request), then the lock, the
    # lookup and the unlock; nothing of the view.
    with django_assert_num_queries(REQUEST_QUERIES + 3) as replay:
        assert create_post(acme_api, "Keyed", key="fresh")["Idempotent-Replayed"] == "true"
    assert not any("content_node" in query["sql"] for query in replay.captured_queries)


# -- a retry while the first request still runs -------------------------------------------


@pytest.fixture
def blocked_publish(live_db):
    """A committed editor of acme, a committed draft, and cleanup of what the test commits."""
    user = login_as(tenant_client("acme"), "acme", email="idem-editor@acme.test", groups=["Editor"])
    node = make_node("acme", title="Racing")
    yield user, node
    with schema_context("acme"):
        IdempotentResponse.objects.all().delete()
        Node.objects.filter(pk=node.pk).delete()
        User.objects.filter(pk=user.pk).delete()
    connection.set_schema_to_public()


def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def _a_backend_waits_on_a_row_lock() -> bool:
    with connections["default"].cursor() as cursor:
        # Asked inside the test's transaction, whose statistics snapshot would never change.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_retry_while_the_first_runs_is_a_409(blocked_publish):
    user, node = blocked_publish
    url = f"{POSTS}{node.pk}/publish/"
    clients = [tenant_client("acme"), tenant_client("acme")]
    with schema_context("acme"):
        for client in clients:
            client.force_login(user)
    answers: dict[str, object] = {}

    def send(name: str, client: Client) -> None:
        try:
            answers[name] = client.post(url, HTTP_IDEMPOTENCY_KEY=KEY)
        except Exception as error:  # reported by the assertions below
            answers[name] = error
        finally:
            connections.close_all()

    first = threading.Thread(target=send, args=("first", clients[0]))
    with schema_context("acme"), transaction.atomic():
        # The test holds the node's row: the first request claims the key, then waits here.
        Node.objects.select_for_update().get(pk=node.pk)
        first.start()
        _wait_until(lambda: _a_backend_waits_on_a_row_lock() or "first" in answers)
        assert "first" not in answers, answers
        second = threading.Thread(target=send, args=("second", clients[1]))
        second.start()
        second.join(timeout=30)
        assert not second.is_alive()
        assert "first" not in answers  # still waiting for the row
    first.join(timeout=30)
    assert not first.is_alive()

    assert_problem(answers["second"], 409, "idempotency_key_in_flight")
    assert answers["first"].status_code == 200, answers["first"].content
    assert answers["first"].json()["status"] == "published"
    retry = clients[1].post(url, HTTP_IDEMPOTENCY_KEY=KEY)
    assert retry.status_code == 200
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.content == answers["first"].content
    with connections["default"].cursor() as cursor:  # no advisory lock left behind
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert cursor.fetchone()[0] == 0
