"""The moderation queue: pending topics, pending replies and reported replies, oldest first,
worked in bulk with a reason; its queries do not grow with its length."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from apps.forum import selectors, services
from apps.forum.models import Flag, ModerationEntry, Reply, Review, Topic
from tests.forum import factories

from .conftest import (
    QUEUE,
    flag,
    in_acme,
    messages_of,
    page,
    refusal,
    reply,
    rows,
    staff_client,
    topic,
)


def _member(name: str):
    return in_acme(factories.member, name=name)


def queue_of(count: int, *, category, moderated, mod, alice, bob) -> dict[str, list]:
    """``count`` pending topics, ``count`` pending replies and ``count`` reported replies
    (every third reported twice), by members with public names."""
    pending_topics = [topic(moderated, alice, f"Pending topic {n}") for n in range(count)]
    welcome = topic(moderated, mod, "Welcome")  # a moderator's topic is approved at once
    pending_replies = [reply(welcome, bob, f"Pending reply {n}") for n in range(count)]
    public = topic(category, alice, "Public")
    reported = [reply(public, alice, f"Reported reply {n}") for n in range(count)]
    carol = _member("Carol Reporter")
    for number, reported_reply in enumerate(reported):
        flag(reported_reply, bob, "spam", note=f"note {number}")
        if number % 3 == 0:
            flag(reported_reply, carol, "abuse")
    return {"topics": pending_topics, "replies": pending_replies, "reported": reported}


def test_the_queue_lists_pending_and_reported_posts_oldest_first_with_links(
    moderator_client, category, moderated, mod, alice, bob
):
    made = queue_of(3, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)

    content = page(moderator_client.get(QUEUE))

    assert rows(content, "topics") == [str(t.pk) for t in made["topics"]]
    assert rows(content, "replies") == [str(r.pk) for r in made["replies"] + made["reported"]]
    first = made["topics"][0]
    assert f'href="/forum/t/{first.pk}/pending-topic-0/"' in content
    assert f'href="/admin/forum/topic/{first.pk}/change/"' in content
    pending = made["replies"][0]
    assert f'href="/forum/r/{pending.pk}/"' in content
    assert f'href="/admin/forum/reply/{pending.pk}/change/"' in content
    # The reports: reason, note and the reporter's public name; never a login email.
    assert "Spam, reported by Bob Example" in content and "“note 0”" in content
    assert "Abusive or offensive, reported by Carol Reporter" in content
    assert "Alice Example" in content
    for member in (alice, bob):
        assert member.email not in content


def test_an_empty_queue_says_so(moderator_client):
    content = page(moderator_client.get(QUEUE))
    assert "No topic is waiting." in content
    assert "No reply is waiting." in content
    assert "No open report." in content


@pytest.mark.parametrize("count", [3, 31])
def test_the_queue_costs_the_same_queries_for_3_and_31_items_a_section(
    moderator_client, django_assert_num_queries, category, moderated, mod, alice, bob, count
):
    made = queue_of(count, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)
    moderator_client.get(QUEUE)  # warm the per-process caches (tenant, flags)
    # session, user, the user's and the groups' permissions, then one query per section:
    # pending topics, pending replies, open reports (each with posts, topics and people).
    with django_assert_num_queries(7):
        content = page(moderator_client.get(QUEUE))
    assert len(rows(content, "topics")) == count
    assert len(rows(content, "replies")) == 2 * count
    assert content.count("reported by") == len(made["reported"]) + (count + 2) // 3


def test_bulk_approve_of_topics_and_replies_logs_who_and_why(
    moderator_client, category, moderated, mod, alice, bob
):
    made = queue_of(3, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)
    topics, replies = made["topics"][:2], made["replies"][:2]

    response = moderator_client.post(
        QUEUE,
        {"action": "approve", "reason": "Welcome aboard",
         "topics": [t.pk for t in topics], "replies": [r.pk for r in replies]},
        follow=True,
    )  # fmt: skip

    assert messages_of(response) == [
        "Approved 2 topics: “Pending topic 0”, “Pending topic 1”.",
        "Approved 2 replies: “Pending reply 0”, “Pending reply 1”.",
    ]
    with_reviews = in_acme(
        lambda: (
            list(Topic.objects.filter(pk__in=[t.pk for t in made["topics"]])
                 .order_by("pk").values_list("review", flat=True)),
            list(Reply.objects.filter(pk__in=[r.pk for r in made["replies"]])
                 .order_by("pk").values_list("status", flat=True)),
        )
    )  # fmt: skip
    assert with_reviews == (
        [Review.APPROVED, Review.APPROVED, Review.PENDING],
        [Review.APPROVED, Review.APPROVED, Review.PENDING],
    )
    log = in_acme(
        lambda: set(
            ModerationEntry.objects.filter(action="approve").values_list(
                "topic_id", "reply_id", "actor_id", "actor_label", "reason"
            )
        )
    )
    welcome = made["replies"][0].topic_id
    assert log == {
        (topics[0].pk, None, mod.pk, "Mia Moderator", "Welcome aboard"),
        (topics[1].pk, None, mod.pk, "Mia Moderator", "Welcome aboard"),
        (welcome, replies[0].pk, mod.pk, "Mia Moderator", "Welcome aboard"),
        (welcome, replies[1].pk, mod.pk, "Mia Moderator", "Welcome aboard"),
    }
    # Approved posts leave the queue.
    content = page(moderator_client.get(QUEUE))
    assert rows(content, "topics") == [str(made["topics"][2].pk)]


def test_refusals_are_reported_per_item_not_as_errors(
    moderator_client, category, moderated, mod, alice, bob
):
    made = queue_of(1, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)
    pending_topic, reported = made["topics"][0], made["reported"][0]

    response = moderator_client.post(
        QUEUE,
        {"action": "hide", "reason": "Spam", "topics": [pending_topic.pk],
         "replies": [reported.pk]},
        follow=True,
    )  # fmt: skip

    assert messages_of(response) == [
        "“Pending topic 0” was not hidden. "
        + refusal(services.TOPIC_REVIEW, Review.PENDING, "hide"),
        "Hidden 1 reply: “Reported reply 0”.",
    ]
    # Hiding a reported reply resolves its reports as hidden.
    resolutions = in_acme(
        lambda: set(Flag.objects.filter(reply=reported).values_list("resolution", "resolved_by"))
    )
    assert resolutions == {("hide", mod.pk)}


def test_dismiss_closes_the_reports_and_keeps_the_reply(
    moderator_client, category, moderated, mod, alice, bob
):
    made = queue_of(1, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)
    reported, pending_topic = made["reported"][0], made["topics"][0]

    response = moderator_client.post(
        QUEUE,
        {"action": "dismiss", "reason": "Not spam", "replies": [reported.pk],
         "topics": [pending_topic.pk]},
        follow=True,
    )  # fmt: skip

    assert messages_of(response) == [
        "Reports are about replies: the selected topics were left as they are.",
        "Dismissed the reports of 1 reply: “Reported reply 0”.",
    ]
    assert in_acme(lambda: selectors.open_flags().count()) == 0
    assert in_acme(lambda: Reply.objects.get(pk=reported.pk).status) == Review.APPROVED
    assert in_acme(
        lambda: list(ModerationEntry.objects.filter(reply=reported).values_list("action", "reason"))
    ) == [("dismiss", "Not spam")]
    assert rows(page(response), "replies") == [str(r.pk) for r in made["replies"]]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "approve"}, "Items must be selected in order to perform actions on them."),
        ({"action": "approve", "topics": ["x"]}, "The selection is not valid."),
        ({"action": "approve", "replies": ["-1"]}, "The selection is not valid."),
        (
            {"action": "approve", "topics": ["99999999999999999999999"]},
            "The selection is not valid.",
        ),
        ({"action": "delete", "topics": ["1"]}, "Select a valid choice."),
        ({"action": "approve", "reason": "x" * 501, "topics": ["1"]}, "at most 500 characters"),
    ],
)
def test_bad_input_is_a_message_never_a_500(moderator_client, data, message):
    response = moderator_client.post(QUEUE, data, follow=True)
    assert response.status_code == 200
    assert any(message in text for text in messages_of(response)), messages_of(response)


def test_an_item_gone_meanwhile_is_skipped(moderator_client, category, moderated, mod, alice, bob):
    made = queue_of(1, category=category, moderated=moderated, mod=mod, alice=alice, bob=bob)
    gone = made["topics"][0]
    in_acme(services.topic_moderate, topic_id=gone.pk, action="reject", actor=mod)

    response = moderator_client.post(
        QUEUE, {"action": "reject", "topics": [gone.pk, 987654]}, follow=True
    )

    assert messages_of(response) == [
        "“Pending topic 0” was not rejected. "
        + refusal(services.TOPIC_REVIEW, Review.REJECTED, "reject")
    ]


def test_the_queue_is_listed_in_the_admin_index_for_moderators(moderator_client):
    content = page(moderator_client.get("/admin/"))
    assert f'href="{QUEUE}"' in content and "Moderation queue" in content


def test_a_staff_member_who_may_only_view_topics_gets_403(acme_client):
    user = staff_client(acme_client, email="viewer@acme.test")
    in_acme(
        lambda: user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="forum", codename__startswith="view_")
        )
    )
    assert acme_client.get(QUEUE).status_code == 403
    assert 'href="/admin/forum/moderation/"' not in page(acme_client.get("/admin/"))
    content = page(acme_client.get("/admin/forum/topic/"))
    assert 'name="action"' not in content  # no action without the right to change
    assert f'href="{QUEUE}"' not in content
