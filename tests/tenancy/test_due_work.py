"""The due-work index: marks kept at their earliest, made and undone with the work's
transaction, never lost to a job settling the row at the same moment, and seeded for the
tenants that exist at the upgrade."""

from __future__ import annotations

import importlib
import io
import logging
import threading
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.api import idempotency
from apps.api.models import IdempotentResponse
from apps.commerce import carts
from apps.commerce import services as commerce
from apps.content import services as content
from apps.content import tasks as content_tasks
from apps.content.models import Node, NodeStatus
from apps.index.models import ContentListing
from apps.tenancy.errors import TenantRequired
from apps.tenancy.models import DueWork, Tenant
from apps.tenancy.services import tenant_activate, tenant_suspend, work_due
from apps.tenancy.tasks import FAILED_VISIT_DELAY, DueWorkFailed, for_each_tenant_with_due_work

seeding = importlib.import_module("apps.tenancy.migrations.0009_duework_seed")

KIND = "tests.job"


@pytest.fixture
def no_marks(db):
    """No mark of any tenant (tests that commit elsewhere may leave theirs behind)."""
    DueWork.objects.all().delete()


def _marks(tenant: Tenant | None = None) -> dict[str, object]:
    rows = DueWork.objects.all() if tenant is None else DueWork.objects.filter(tenant=tenant)
    return dict(rows.values_list("kind", "due_at"))


def _draft(title: str, publish_at) -> Node:
    return content.node_create(
        data=content.NodeInput(
            kind="post",
            translations=[content.TranslationInput(locale="en", title=title)],
            publish_at=publish_at,
        )
    )


def test_the_earliest_mark_is_kept(no_marks, acme):
    soon, later = timezone.now() + timedelta(hours=1), timezone.now() + timedelta(hours=5)
    with schema_context("acme"):
        work_due(kind=KIND, at=later)
        work_due(kind=KIND, at=soon)  # sooner: moves the mark
        work_due(kind=KIND, at=later)  # later: changes nothing
    assert _marks(acme) == {KIND: soon}


def test_a_mark_names_the_given_tenant_or_the_active_one(no_marks, acme, globex):
    at = timezone.now()
    work_due(kind=KIND, at=at, tenant=globex)
    with schema_context("acme"):
        work_due(kind="tests.other", at=at)
    assert _marks(globex) == {KIND: at}
    assert _marks(acme) == {"tests.other": at}


def test_a_mark_in_public_fails_loudly(no_marks):
    with pytest.raises(TenantRequired):
        work_due(kind=KIND, at=timezone.now())


def test_a_rolled_back_schedule_leaves_no_mark(no_marks, acme):
    class Abort(Exception):
        pass

    with schema_context("acme"):
        with pytest.raises(Abort), transaction.atomic():
            _draft("Never", timezone.now() + timedelta(hours=1))
            assert content.PUBLISH_DUE in _marks(acme)  # marked inside the transaction
            raise Abort
        assert not Node.objects.filter(translations__title="Never").exists()
    assert _marks(acme) == {}


def test_each_writer_of_due_work_marks_it(no_marks, acme):
    """Scheduling (and rescheduling sooner), a visitor's cart and a stored API answer each
    leave their job's mark at their due time (reservations and webhook deliveries: in
    ``test_beat_jobs``)."""
    now = timezone.now()
    with schema_context("acme"):
        node = _draft("Later", now + timedelta(days=3))
        assert _marks(acme) == {content.PUBLISH_DUE: now + timedelta(days=3)}
        content.node_schedule(node_id=node.pk, publish_at=now + timedelta(days=1))
        commerce.store_settings_update(default_currency="USD", enabled_currencies=["USD"])
        cart = carts.cart_for(
            token=None, customer_id=None, currency="USD", locale="en", create=True
        )
        claim = idempotency.Claim(
            scope="t" * 64, lock_id=1, principal="user:1", method="POST", path="/api/v1/posts",
            key="k", fingerprint="0" * 64,
        )  # fmt: skip
        claim.record(HttpResponse(b"{}", status=201))
        stored = IdempotentResponse.objects.get(scope=claim.scope)
    assert _marks(acme) == {
        content.PUBLISH_DUE: now + timedelta(days=1),
        carts.PRUNE_STALE_CARTS: cart.updated_at + carts.STALE_AFTER,
        idempotency.PRUNE_JOB: stored.created_at + idempotency.RETENTION,
    }


def test_scheduled_in_the_future_then_published_when_its_time_comes(no_marks, acme):
    with schema_context("acme"):
        node = _draft("Tomorrow", timezone.now() + timedelta(days=1))
    connection.set_schema_to_public()

    assert content_tasks.publish_due() == 0  # not yet
    assert content_tasks.publish_due(now=node.publish_at + timedelta(minutes=1)) == 1
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).status == NodeStatus.PUBLISHED
    assert _marks(acme) == {}


def test_a_suspended_tenant_keeps_its_marks_and_is_visited_once_active(no_marks, acme):
    with schema_context("acme"):
        node = _draft("Waiting", timezone.now() - timedelta(minutes=1))
    connection.set_schema_to_public()
    tenant_suspend(slug="acme")
    try:
        assert content_tasks.publish_due() == 0
        assert content.PUBLISH_DUE in _marks(acme)
    finally:
        tenant_activate(slug="acme")
    assert content_tasks.publish_due() == 1
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).status == NodeStatus.PUBLISHED


def test_a_tenant_whose_work_fails_is_put_off_and_the_others_are_visited(
    no_marks, acme, globex, caplog
):
    """acme's row is the oldest: were the run to stop at it, globex would never be visited."""
    kind = "tests.flaky"
    now = timezone.now()
    DueWork.objects.create(tenant=acme, kind=kind, due_at=now - timedelta(minutes=5))
    DueWork.objects.create(tenant=globex, kind=kind, due_at=now - timedelta(minutes=1))
    visited = []

    def work(now):
        visited.append(connection.schema_name)
        if connection.schema_name == "acme":
            raise RuntimeError("acme's schema is broken")
        return 2

    with pytest.raises(DueWorkFailed, match=r"tests.flaky failed for 1 tenant\(s\): acme"):
        for_each_tenant_with_due_work(
            kind, work, lambda: None, logger=logging.getLogger("tests"), done="%s of %s", now=now
        )
    assert visited == ["acme", "globex"]
    assert _marks(globex) == {}  # done, nothing left
    put_off = _marks(acme)[kind]
    assert put_off >= now + FAILED_VISIT_DELAY - timedelta(seconds=5)
    assert "acme's schema is broken" in caplog.text
    # The next run before that time visits nobody.
    visited.clear()
    assert (
        for_each_tenant_with_due_work(
            kind, work, lambda: None, logger=logging.getLogger("tests"), done="%s of %s", now=now
        )
        == 0
    )
    assert visited == []


def test_the_upgrade_marks_every_tenant_for_every_job(no_marks, acme, globex):
    """A node scheduled before the index existed (no mark) is published after the upgrade."""
    with schema_context("acme"):
        node = _draft("From before", timezone.now() - timedelta(minutes=1))
    connection.set_schema_to_public()
    DueWork.objects.all().delete()  # as before the upgrade
    assert content_tasks.publish_due() == 0  # forgotten without the seed

    with connection.schema_editor(atomic=False) as editor:
        seeding.seed(django_apps, editor)
    tenants = Tenant.objects.count()
    assert DueWork.objects.count() == tenants * len(seeding.KINDS)

    assert content_tasks.publish_due() == 1
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).status == NodeStatus.PUBLISHED
    # The run set the true next time of every tenant it visited: nothing left, no mark.
    assert not DueWork.objects.filter(kind=content.PUBLISH_DUE).exists()


def test_the_seed_knows_every_job_that_reads_the_index():
    from apps.api.tasks import prune_idempotent_responses
    from apps.commerce.tasks import (
        expire_reservations,
        prune_stale_carts,
        reconcile_payments,
        retry_order_emails,
    )
    from apps.webhooks.tasks import prune, sweep

    jobs = [content_tasks.publish_due, expire_reservations, prune_stale_carts]
    jobs += [retry_order_emails, reconcile_payments]
    jobs += [prune_idempotent_responses, sweep, prune]
    assert sorted(seeding.KINDS) == sorted(job.name for job in jobs)


# -- a writer and a job at the same moment ----------------------------------------------------


class CommittedNodes(list):
    def __init__(self, tenant: Tenant) -> None:
        super().__init__()
        self.tenant = tenant

    def __repr__(self) -> str:
        return f"<{len(self)} committed node(s) of {self.tenant.slug}>"


@pytest.fixture
def committed_nodes(live_db):
    """Committed drafts of acme and acme's marks, removed afterwards (acme itself is
    ``made.tenant``)."""
    made = CommittedNodes(Tenant.objects.get(slug="acme"))
    DueWork.objects.all().delete()
    yield made
    with schema_context("acme"):
        ids = [node.pk for node in made]
        ContentListing.objects.filter(node_id__in=ids).delete()
        Node.objects.filter(pk__in=ids).delete()
    connection.set_schema_to_public()
    DueWork.objects.all().delete()


def test_a_mark_made_while_the_job_settles_the_row_is_not_lost(committed_nodes):
    """acme has a due draft (marked). A writer schedules another draft, due at once, and holds
    its transaction open; meanwhile the job publishes the first draft and settles the row.
    The row must not go: once the writer commits, the next run publishes its draft."""
    with schema_context("acme"):
        committed_nodes.append(_draft("First", timezone.now() - timedelta(minutes=2)))
    connection.set_schema_to_public()

    marked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with schema_context("acme"), transaction.atomic():
                with connection.cursor() as cursor:  # a wait on the test's own locks fails
                    cursor.execute("SET LOCAL lock_timeout = '10s'")
                committed_nodes.append(_draft("Second", timezone.now() - timedelta(minutes=1)))
                marked.set()
                assert release.wait(timeout=30)
        except BaseException as error:
            errors.append(error)
            marked.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert marked.wait(timeout=30)
        assert content_tasks.publish_due() == 1  # the first draft; the second is not committed
        assert content.PUBLISH_DUE in _marks(committed_nodes.tenant)  # held by the writer: left due
    finally:
        release.set()
        thread.join()
    assert not errors
    assert content_tasks.publish_due() == 1
    with schema_context("acme"):
        statuses = set(
            Node.objects.filter(pk__in=[n.pk for n in committed_nodes]).values_list(
                "status", flat=True
            )
        )
    assert statuses == {NodeStatus.PUBLISHED}
    connection.set_schema_to_public()
    assert _marks(committed_nodes.tenant) == {}


def test_a_mark_after_the_job_deleted_the_row_makes_it_again(committed_nodes):
    """The job settles first (nothing left: the row goes), then a writer marks: a new row."""
    with schema_context("acme"):
        committed_nodes.append(_draft("Only", timezone.now() - timedelta(minutes=1)))
    connection.set_schema_to_public()
    assert content_tasks.publish_due() == 1
    assert _marks(committed_nodes.tenant) == {}
    with schema_context("acme"):
        committed_nodes.append(_draft("Next", timezone.now() - timedelta(seconds=1)))
    connection.set_schema_to_public()
    assert content.PUBLISH_DUE in _marks(committed_nodes.tenant)
    assert content_tasks.publish_due() == 1


def test_the_jobs_declare_the_kinds_the_seed_marks():
    from django.utils.module_loading import autodiscover_modules

    from apps.tenancy.services import due_work_kinds

    autodiscover_modules("tasks")
    assert due_work_kinds() == sorted(seeding.KINDS)


def test_the_command_marks_a_restored_tenant_due_now_for_every_job(no_marks, acme, globex):
    """After a restore, the schema may hold work the index never heard of: the command marks
    the tenant due now, and the next run of each job sets the true time."""
    from django.core.management import CommandError, call_command

    with schema_context("acme"):
        node = _draft("Restored", timezone.now() - timedelta(minutes=1))
    connection.set_schema_to_public()
    DueWork.objects.all().delete()  # what the index knew before the restore

    out = io.StringIO()
    call_command("due_work_mark", "--tenant", "acme", stdout=out)
    assert out.getvalue().startswith(f"{len(seeding.KINDS)} mark(s): 1 tenant(s)")
    assert sorted(_marks(acme)) == sorted(seeding.KINDS)
    assert _marks(globex) == {}
    assert content_tasks.publish_due() == 1
    with schema_context("acme"):
        assert Node.objects.get(pk=node.pk).status == NodeStatus.PUBLISHED
    with pytest.raises(CommandError):
        call_command("due_work_mark", "--tenant", "nobody")
