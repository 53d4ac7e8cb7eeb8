"""The topics' bulk actions: a confirmation page asks for the reason, then one service call
per topic; what was done and what was refused are reported, the log keeps who and why."""

from __future__ import annotations

import pytest

from apps.events.models import OutboxEvent
from apps.forum import selectors, services
from apps.forum.models import Topic, TopicStatus

from .conftest import TOPICS, act, confirm, in_acme, messages_of, page, refusal, topic


def log_of(topic_id: int) -> list[tuple]:
    return in_acme(
        lambda: list(selectors.moderation_log(topic_id).values_list("action", "reason", "actor_id"))
    )


def statuses(*topics) -> list[str]:
    return [in_acme(lambda t=t: Topic.objects.get(pk=t.pk).status) for t in topics]


def test_close_asks_for_a_reason_first_and_changes_nothing_until_confirmed(
    moderator_client, category, alice
):
    first, second = topic(category, alice, "First"), topic(category, alice, "Second")

    content = page(act(moderator_client, TOPICS, "close_selected", [first, second]))

    assert 'name="reason"' in content and 'name="apply"' in content
    assert "First" in content and "Second" in content
    assert statuses(first, second) == [TopicStatus.OPEN, TopicStatus.OPEN]
    assert log_of(first.pk) == []


def test_close_selected_with_a_reason_logs_who_and_why(moderator_client, mod, category, alice):
    topics = [topic(category, alice, f"Topic {n}") for n in range(3)]

    response = confirm(moderator_client, TOPICS, "close_selected", topics, reason="Off topic")

    [message] = messages_of(response)
    assert message.startswith("Closed 3 topics: ")
    assert all(f"“Topic {n}”" in message for n in range(3))
    assert statuses(*topics) == [TopicStatus.CLOSED] * 3
    for closed in topics:
        assert log_of(closed.pk) == [("close", "Off topic", mod.pk)]
    with_actor = in_acme(
        lambda: list(
            OutboxEvent.objects.filter(event_type="forum.topic.closed").values_list(
                "actor", flat=True
            )
        )
    )
    assert len(with_actor) == 3 and all(actor["id"] == str(mod.pk) for actor in with_actor)


def test_a_reason_may_be_empty(moderator_client, category, alice):
    pinned = topic(category, alice)

    messages = messages_of(confirm(moderator_client, TOPICS, "pin_selected", [pinned], reason=""))

    assert messages == ["Pinned 1 topic: “A question”."]
    assert log_of(pinned.pk)[0][:2] == ("pin", "")


def test_refusals_are_listed_per_topic_with_the_services_message(
    moderator_client, mod, category, alice
):
    open_one, closed = topic(category, alice, "Still open"), topic(category, alice, "Shut")
    in_acme(services.topic_moderate, topic_id=closed.pk, action="close", actor=mod)

    response = confirm(moderator_client, TOPICS, "close_selected", [open_one, closed])

    assert response.status_code == 200
    assert messages_of(response) == [
        "Closed 1 topic: “Still open”.",
        "“Shut” was not closed. " + refusal(services.TOPIC_STATUS, TopicStatus.CLOSED, "close"),
    ]
    assert statuses(open_one, closed) == [TopicStatus.CLOSED, TopicStatus.CLOSED]


def test_a_reason_too_long_is_a_form_error_and_nothing_is_done(moderator_client, category, alice):
    locked = topic(category, alice)

    response = moderator_client.post(
        TOPICS,
        {"action": "lock_selected", "_selected_action": [locked.pk], "apply": "yes",
         "reason": "x" * 501},
    )  # fmt: skip

    content = page(response)
    assert "errorlist" in content and 'name="reason"' in content
    assert in_acme(lambda: Topic.objects.get(pk=locked.pk).locked) is False


def test_every_service_action_is_offered(moderator_client, category, alice):
    topic(category, alice)
    content = page(moderator_client.get(TOPICS))
    for action in services.TOPIC_ACTIONS:
        assert f'value="{action}_selected"' in content
    assert 'value="move_selected"' in content
    assert 'value="delete_selected"' not in content


def test_move_to_category_asks_where_and_why(moderator_client, mod, category, moderated, alice):
    first, second = topic(category, alice, "First"), topic(moderated, alice, "Second")

    content = page(act(moderator_client, TOPICS, "move_selected", [first, second]))
    assert 'name="category"' in content and 'name="reason"' in content

    response = confirm(
        moderator_client, TOPICS, "move_selected", [first, second],
        category=moderated.pk, reason="Belongs there",
    )  # fmt: skip

    assert messages_of(response) == [
        "Moved 1 topic to “Introductions”: “First”.",
        "“Second” was not moved. The topic is already in this category.",
    ]
    assert in_acme(lambda: Topic.objects.get(pk=first.pk).category_id) == moderated.pk
    assert log_of(first.pk) == [("move", "Belongs there", mod.pk)]


def test_move_to_a_category_that_does_not_exist_is_a_form_error(moderator_client, category, alice):
    moved = topic(category, alice)
    response = moderator_client.post(
        TOPICS,
        {"action": "move_selected", "_selected_action": [moved.pk], "apply": "yes",
         "category": "999999"},
    )  # fmt: skip
    assert "errorlist" in page(response)
    assert in_acme(lambda: Topic.objects.get(pk=moved.pk).category_id) == category.pk


def test_the_change_page_offers_the_topics_actions_and_comes_back(
    moderator_client, mod, category, alice
):
    shown = topic(category, alice)
    url = f"{TOPICS}{shown.pk}/change/"

    content = page(moderator_client.get(url))
    assert 'value="close_selected"' in content and 'value="archive_selected"' in content
    assert 'value="reopen_selected"' not in content  # it is open
    assert f'href="/forum/t/{shown.pk}/a-question/"' in content

    confirmation = page(
        moderator_client.post(
            TOPICS, {"action": "lock_selected", "_selected_action": shown.pk, "return_to": "change"}
        )
    )
    assert 'name="return_to" value="change"' in confirmation
    response = moderator_client.post(
        TOPICS,
        {"action": "lock_selected", "_selected_action": shown.pk, "return_to": "change",
         "apply": "yes", "reason": "Heated"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == url
    assert log_of(shown.pk) == [("lock", "Heated", mod.pk)]


@pytest.mark.parametrize("selected", ["abc", "99999999999999999999999", "-1"])
def test_a_forged_selection_is_a_message_not_a_500(moderator_client, category, alice, selected):
    kept = topic(category, alice)
    for step in ({"index": 0}, {"apply": "yes", "return_to": "change"}):
        response = moderator_client.post(
            TOPICS,
            {"action": "close_selected", "_selected_action": selected, **step},
            follow=True,
        )
        assert messages_of(response) == ["The selection is not valid."]
    assert statuses(kept) == [TopicStatus.OPEN]
