"""The forum's emails: mentions and subscribers, sent by the relay once a post is public, once
each, never to the author, in the member's language, with links on the tenant's own host.

The posts are committed (``live_db``) and the relay drained as a worker would drain it; one
test runs a real worker against a local SMTP server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.events.envelope import StoredEvent
from apps.events.models import OutboxEvent
from apps.events.registry import subscriber
from apps.events.relay import drain
from apps.events.services import events_replay
from apps.forum import notifications, selectors, services
from apps.forum.models import Notice
from apps.tenancy.models import Tenant
from tests.index.support import forget_tenants

from . import factories

FORUM_TABLES = (
    "forum_notice, forum_subscription, forum_member, forum_flag, forum_moderationentry, "
    "forum_edit, forum_reply, forum_topic_tags, forum_topic, forum_forumcategory, "
    "index_forum_topic, index_forum_category"
)
TENANTS = ("acme", "globex")
LOGIN = re.compile(r"[\w.+-]+@[\w-]+\.test")


def _wipe(last_user_ids: dict[str, int]) -> None:
    for schema in TENANTS:
        with schema_context(schema), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {FORUM_TABLES}")
            get_user_model().objects.filter(pk__gt=last_user_ids[schema]).delete()


@pytest.fixture
def forum(live_db) -> Iterator[None]:
    """acme's and globex's forums on committed data, empty before and after; users made by
    the test go afterwards, and acme serves English (default) and German."""
    last = {}
    for schema in TENANTS:
        with schema_context(schema):
            last[schema] = get_user_model().objects.order_by("-pk").values_list("pk", flat=True)[0]
    saved = Tenant.objects.filter(slug="acme").values("enabled_locales", "default_locale").get()
    Tenant.objects.filter(slug="acme").update(enabled_locales=["en", "de"], default_locale="en")
    forget_tenants()
    _wipe(last)
    yield
    connection.set_schema_to_public()
    _wipe(last)
    Tenant.objects.filter(slug="acme").update(**saved)
    forget_tenants()
    connection.set_schema_to_public()


def _member(name: str, schema: str = "acme"):
    """A member with a handle (made from the name, as on their first post)."""
    with schema_context(schema):
        user = factories.member(name)
        services.member_for(user)
        return user


def _moderator():
    with schema_context("acme"):
        return factories.moderator("Mia Moderator")


def _topic(author, body: str = "Which tent for two?", *, category=None, **values):
    with schema_context("acme"):
        category = category or selectors.category_by_slug("help") or factories.category(name="Help")
        return services.topic_start(
            category_id=category.pk, title="Tents", body=body, actor=author, **values
        )


def _reply(topic, author, body: str):
    with schema_context("acme"):
        return services.reply_post(topic_id=topic.pk, body=body, actor=author)


def _to(mailoutbox) -> list[tuple[str, str]]:
    return sorted((message.to[0], message.subject) for message in mailoutbox)


def _notices() -> list[tuple[int, int, int | None, str]]:
    with schema_context("acme"):
        return sorted(Notice.objects.values_list("user_id", "topic_id", "reply_id", "reason"))


def test_a_reply_emails_each_subscriber_once_never_its_author(forum, mailoutbox):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    topic = _topic(alice)  # its author is subscribed
    with schema_context("acme"):
        services.topic_subscribe(topic_id=topic.pk, actor=carol)
        services.topic_subscribe(topic_id=topic.pk, actor=bob)
    reply = _reply(topic, bob, "The **Ridgeline 2** is light & dry; 2 < 3.")
    assert mailoutbox == []  # nothing before the relay
    drain()
    drain()

    subject = "Bob Example replied to “Tents”"
    assert _to(mailoutbox) == [(alice.email, subject), (carol.email, subject)]
    message = next(m for m in mailoutbox if m.to == [carol.email])
    assert message.from_email == "Acme Test <shop@localhost>"
    assert message.body.startswith("Hello Carol Example,")
    assert "The Ridgeline 2 is light & dry; 2 < 3." in message.body
    assert f"http://acme.localhost/forum/r/{reply.pk}/" in message.body
    [token] = re.findall(r"http://acme\.localhost/forum/unsubscribe/([^/\s]+)/", message.body)
    with schema_context("acme"):
        assert selectors.unsubscribe_target(token) == (carol.pk, topic.pk)
    assert message.extra_headers["List-Unsubscribe"] == (
        f"<http://acme.localhost/forum/unsubscribe/{token}/>"
    )
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    # The excerpt is the post's text, escaped again in HTML (never the author's markup).
    assert "The Ridgeline 2 is light &amp; dry; 2 &lt; 3." in html and "<strong>" not in html
    assert f'href="http://acme.localhost/forum/r/{reply.pk}/"' in html
    assert f'href="http://acme.localhost/forum/unsubscribe/{token}/"' in html
    # Nobody's login email in the text: people are named by their display names.
    for sent in mailoutbox:
        assert not LOGIN.findall(sent.body + sent.alternatives[0][0])
    assert _notices() == [
        (alice.pk, topic.pk, reply.pk, "reply"), (carol.pk, topic.pk, reply.pk, "reply"),
    ]  # fmt: skip


def test_subscribed_and_mentioned_gets_one_email_the_mention(forum, mailoutbox):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    topic = _topic(alice)
    reply = _reply(topic, bob, "@alice-example and @carol-example: see @bob-example (me).")
    drain()

    assert _to(mailoutbox) == [
        (alice.email, "Bob Example mentioned you in “Tents”"),
        (carol.email, "Bob Example mentioned you in “Tents”"),
    ]
    for message in mailoutbox:
        assert "Bob Example mentioned you in a reply to “Tents”:" in message.body
        assert "List-Unsubscribe" not in message.extra_headers
        assert "/forum/unsubscribe/" not in message.body
        assert f"http://acme.localhost/forum/r/{reply.pk}/" in message.body
    assert {reason for *_, reason in _notices()} == {"mention"}


def test_a_pending_reply_tells_nobody_until_approved_then_each_once(forum, mailoutbox):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    mod = _moderator()
    with schema_context("acme"):
        moderated = factories.category(name="Introductions", moderated=True)
    topic = _topic(alice, category=moderated)
    drain()
    with schema_context("acme"):
        services.topic_moderate(topic_id=topic.pk, action="approve", actor=mod)
    reply = _reply(topic, bob, "Hello @carol-example!")
    drain()
    assert mailoutbox == []  # pending: not public

    with schema_context("acme"):
        services.reply_moderate(reply_id=reply.pk, action="approve", actor=mod)
    drain()
    assert [message.to[0] for message in sorted(mailoutbox, key=lambda m: m.to)] == sorted(
        [alice.email, carol.email]
    )
    # Hidden, shown again, edited with the same mentions: nobody hears of it twice.
    with schema_context("acme"):
        services.reply_moderate(reply_id=reply.pk, action="hide", actor=mod)
        services.reply_moderate(reply_id=reply.pk, action="unhide", actor=mod)
        services.reply_edit(reply_id=reply.pk, body="Hello again @carol-example!", actor=mod)
    drain()
    assert len(mailoutbox) == 2


def test_rejected_and_hidden_posts_tell_nobody(forum, mailoutbox):
    alice, bob = _member("Alice Example"), _member("Bob Example")
    _member("Carol Example")  # mentioned, and never told
    mod = _moderator()
    with schema_context("acme"):
        moderated = factories.category(name="Introductions", moderated=True)
    pending = _topic(bob, "Hi @carol-example", category=moderated)
    topic = _topic(alice)
    reply = _reply(topic, bob, "Spam for @carol-example")
    with schema_context("acme"):
        services.topic_moderate(topic_id=pending.pk, action="reject", actor=mod)
        # Hidden before the relay came to it: read as it is now, it is not public.
        services.reply_moderate(reply_id=reply.pk, action="hide", actor=mod)
    drain()
    assert mailoutbox == []
    assert _notices() == []


def test_replaying_the_events_sends_nothing_again(forum, mailoutbox):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    topic = _topic(alice, "Ask @carol-example")
    _reply(topic, bob, "I agree with @carol-example")
    drain()
    # carol for the topic and for the reply, alice (subscribed to her topic) for the reply
    assert sorted(m.to[0] for m in mailoutbox) == sorted([carol.email, carol.email, alice.email])

    # The relay's ledger forgotten: the handler runs again on every event, and finds them told.
    replayed = events_replay(handler="forum.notifications")
    assert replayed >= 2
    stats = drain()
    assert stats.failed == 0 and len(mailoutbox) == 3
    # The handler run by hand on the reply's event (a replay under another event id).
    handler = subscriber("forum.notifications")
    row = OutboxEvent.objects.filter(event_type="forum.reply.posted").values().get()
    with schema_context("acme"), transaction.atomic():
        handler.func(StoredEvent.from_row(row))
    assert len(mailoutbox) == 3


def test_an_edit_tells_only_the_newly_mentioned(forum, mailoutbox):
    alice, bob = _member("Alice Example"), _member("Bob Example")
    carol, dave = _member("Carol Example"), _member("Dave Example")
    topic = _topic(alice, "Ask @carol-example", subscribe=False)
    reply = _reply(topic, bob, "Thanks @carol-example")
    drain()
    assert _to(mailoutbox) == [
        (carol.email, "Alice Example mentioned you in “Tents”"),
        (carol.email, "Bob Example mentioned you in “Tents”"),
    ]
    mailoutbox.clear()
    with schema_context("acme"):
        services.topic_edit(
            topic_id=topic.pk, body="Ask @carol-example or @dave-example", actor=alice
        )
        services.reply_edit(
            reply_id=reply.pk, body="Thanks @carol-example and @dave-example", actor=bob
        )
        services.topic_edit(topic_id=topic.pk, title="Tents for two", actor=alice)
    drain()
    assert _to(mailoutbox) == [
        (dave.email, "Alice Example mentioned you in “Tents for two”"),
        (dave.email, "Bob Example mentioned you in “Tents for two”"),
    ]
    topic_mail = next(m for m in mailoutbox if m.subject.startswith("Alice"))
    assert "Alice Example mentioned you in the topic “Tents for two”:" in topic_mail.body
    assert f"http://acme.localhost/forum/t/{topic.pk}/tents-for-two/" in topic_mail.body


def test_a_topic_approved_tells_the_members_it_mentions(forum, mailoutbox):
    alice, bob = _member("Alice Example"), _member("Bob Example")
    mod = _moderator()
    with schema_context("acme"):
        moderated = factories.category(name="Introductions", moderated=True)
    topic = _topic(alice, "Hi all, and hello @bob-example", category=moderated)
    drain()
    assert mailoutbox == []
    with schema_context("acme"):
        services.topic_moderate(topic_id=topic.pk, action="approve", actor=mod)
    drain()
    assert _to(mailoutbox) == [(bob.email, "Alice Example mentioned you in “Tents”")]
    assert _notices() == [(bob.pk, topic.pk, None, "mention")]


def test_inactive_members_and_other_tenants_get_nothing(forum, mailoutbox):
    alice, bob = _member("Alice Example"), _member("Bob Example")
    carol = _member("Carol Example")
    gina = _member("Gina Globex", "globex")  # only in globex
    globex_bob = _member("Bob Example", "globex")  # globex's own @bob-example
    with schema_context("acme"):
        get_user_model().objects.filter(pk=carol.pk).update(is_active=False)
    topic = _topic(alice, subscribe=False)
    with schema_context("acme"):
        services.topic_subscribe(topic_id=topic.pk, actor=carol)
    _reply(topic, alice, "Ping @carol-example, @gina-globex and @bob-example")
    drain()
    assert _to(mailoutbox) == [(bob.email, "Alice Example mentioned you in “Tents”")]
    assert bob.email != globex_bob.email and gina.email not in {m.to[0] for m in mailoutbox}
    with schema_context("globex"):
        assert not Notice.objects.exists()


def test_the_email_is_in_the_members_language_else_the_sites(forum, mailoutbox):
    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    dave = _member("Dave Example")
    with schema_context("acme"):
        elsewhere = factories.category(name="Elsewhere")
    _topic(carol, "Hallo zusammen", category=elsewhere, locale="de")  # carol writes German
    topic = _topic(alice, subscribe=False)
    reply = _reply(topic, bob, "@carol-example @alice-example")
    drain()
    by_recipient = {message.to[0]: message for message in mailoutbox}
    german, english = by_recipient[carol.email], by_recipient[alice.email]
    assert '<html lang="de">' in german.alternatives[0][0]
    assert f"http://acme.localhost/forum/r/{reply.pk}/?lang=de" in german.body
    assert '<html lang="en">' in english.alternatives[0][0]
    assert f"http://acme.localhost/forum/r/{reply.pk}/\n" in english.body

    # A member whose language the forum does not know reads the site's default: German now.
    mailoutbox.clear()
    Tenant.objects.filter(slug="acme").update(default_locale="de")
    forget_tenants()
    _reply(topic, bob, "@dave-example noch einmal")
    drain()
    [message] = mailoutbox
    assert message.to == [dave.email]
    assert '<html lang="de">' in message.alternatives[0][0]
    assert "?lang=" not in message.body  # the default locale needs no parameter


def test_the_links_use_the_tenants_primary_domain(forum, mailoutbox, settings):
    alice, bob = _member("Alice Example"), _member("Bob Example")
    acme = Tenant.objects.get(slug="acme")
    domain = acme.domains.create(domain="forum.acme-outfitters.example", is_primary=True)
    settings.SECURE_SSL_REDIRECT = True
    try:
        topic = _topic(alice, subscribe=False)
        reply = _reply(topic, bob, "@alice-example")
        drain()
    finally:
        domain.delete()
    [message] = mailoutbox
    assert f"https://forum.acme-outfitters.example/forum/r/{reply.pk}/" in message.body


def test_the_work_per_post_does_not_grow_with_its_audience(forum, django_assert_num_queries):
    """One query per step, whether two members hear of a reply or twenty."""
    alice = _member("Alice Example")
    bob = _member("Bob Example")
    few = [_member(f"Few {n}") for n in range(2)]
    many = [_member(f"Many {n}") for n in range(20)]
    first, second = _topic(alice, subscribe=False), _topic(alice, subscribe=False)
    with schema_context("acme"):
        for user in few:
            services.topic_subscribe(topic_id=first.pk, actor=user)
        for user in many:
            services.topic_subscribe(topic_id=second.pk, actor=user)
    replies = [_reply(first, bob, "@alice-example"), _reply(second, bob, "@alice-example")]
    counts = []
    with schema_context("acme"):
        for reply in replies:
            with transaction.atomic():
                selectors.category_by_slug("help")  # the transaction and the schema set up
                # The topic and the reply, the subscribers, the members mentioned, the active
                # ones, the notices, their languages, the site's domain, the recipients with
                # their names; and the savepoint around them.
                with django_assert_num_queries(11) as captured:
                    sent = notifications.post_notify(
                        topic_id=reply.topic_id, reply_id=reply.pk, subscribers=True
                    )
                transaction.set_rollback(True)
            counts.append((sent, len(captured)))
    assert counts == [(3, 11), (21, 11)]


@pytest.mark.integration
def test_a_real_worker_sends_each_email_once(forum, tmp_path):
    from config.celery import app as celery_app
    from tests.commerce.smtp import SmtpSink, text_of
    from tests.events.conftest import Workers, wait_for

    alice, bob, carol = _member("Alice Example"), _member("Bob Example"), _member("Carol Example")
    topic = _topic(alice)
    reply = _reply(topic, bob, "Have a look, @carol-example.")
    sink = SmtpSink().start()
    workers = Workers(tmp_path)
    try:
        workers.start(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(sink.port),
        )  # fmt: skip
        celery_app.send_task("events.drain")
        sink.wait_for(2)
        done = lambda: not OutboxEvent.objects.filter(status="pending").exists()  # noqa: E731
        wait_for(done, message=workers.logs)
        events_replay(handler="forum.notifications")  # wakes the worker up on commit
        wait_for(done, message=workers.logs)
        received = {message["To"]: message for message in sink.messages}
        assert len(sink.messages) == 2 and set(received) == {alice.email, carol.email}
        assert received[carol.email]["Subject"] == "Bob Example mentioned you in “Tents”"
        assert f"http://acme.localhost/forum/r/{reply.pk}/" in text_of(received[carol.email])
        assert (
            str(received[alice.email]["List-Unsubscribe"])
            .strip()
            .startswith("<http://acme.localhost/forum/unsubscribe/")
        )
    finally:
        workers.stop_all()
        sink.stop()
