"""The topics' list and change page: public names, filters, bounded queries; moderators edit
the text (logged, kept in the edit history), the record stays read-only."""

from __future__ import annotations

import re

import pytest

from apps.content import services as content_services
from apps.forum import services
from apps.forum.models import Edit, ModerationEntry, Topic

from .conftest import TOPICS, in_acme, inline_management, page, reply, topic


def titles(content: str) -> list[str]:
    return re.findall(r'class="list-title" href="[^"]+" title="[^"]*">([^<]+)</a>', content)


def test_the_list_shows_the_topics_record_and_never_an_email(
    moderator_client, mod, category, alice, bob
):
    solved = topic(category, alice, "Solved one")
    answer = reply(solved, bob)
    in_acme(services.topic_mark_solved, topic_id=solved.pk, reply_id=answer.pk, actor=alice)
    in_acme(services.topic_moderate, topic_id=solved.pk, action="pin", actor=mod)

    content = page(moderator_client.get(TOPICS))

    row = content.split(">Solved one</a>", 1)[1].split("</tr>", 1)[0]
    assert "Help" in row and "Alice Example" in row and "Open" in row and "Approved" in row
    # pinned yes, locked no, solved yes; views 0
    assert re.findall(r'alt="(True|False)"', row) == ["True", "False", "True"]
    assert '<td class="field-views_count">0</td>' in row
    assert alice.email not in content and bob.email not in content


def test_filters_and_search(moderator_client, mod, category, moderated, alice):
    locked = topic(category, alice, "Locked thread")
    topic(category, alice, "Other thread")
    pending = topic(moderated, alice, "Waiting thread")
    in_acme(services.topic_moderate, topic_id=locked.pk, action="lock", actor=mod)

    assert titles(page(moderator_client.get(TOPICS, {"locked__exact": "1"}))) == ["Locked thread"]
    assert titles(page(moderator_client.get(TOPICS, {"review__exact": "pending"}))) == [
        "Waiting thread"
    ]
    assert titles(page(moderator_client.get(TOPICS, {"category__id__exact": moderated.pk}))) == [
        "Waiting thread"
    ]
    assert titles(page(moderator_client.get(TOPICS, {"q": "other"}))) == ["Other thread"]
    assert titles(page(moderator_client.get(TOPICS, {"q": f"#{pending.pk}"}))) == ["Waiting thread"]
    assert titles(page(moderator_client.get(TOPICS, {"q": "9" * 30}))) == []


@pytest.mark.parametrize("count", [3, 35])
def test_the_list_costs_the_same_queries_for_3_and_35_topics(
    moderator_client, django_assert_num_queries, category, moderated, alice, bob, count
):
    for number in range(count):
        topic(category if number % 2 else moderated, alice if number % 3 else bob, f"T{number}")
    moderator_client.get(TOPICS)  # warm the per-process caches (tenant, flags)
    # session, user, the user's and the groups' permissions, the count, the rows (with
    # category and author's profile), the categories of the filter.
    with django_assert_num_queries(7):
        content = page(moderator_client.get(TOPICS))
    assert len(titles(content)) == count


def test_the_change_page_edits_title_body_and_tags_through_the_service(
    moderator_client, mod, category, alice
):
    edited = topic(category, alice, "Old title", "Old body")
    tag = in_acme(content_services.tag_get_or_create, name="Billing")
    url = f"{TOPICS}{edited.pk}/change/"

    response = moderator_client.post(
        url,
        {"title": "New title", "body": "New body", "tags": [tag.pk], "reason": "Clearer",
         "_continue": "Save", **inline_management(moderator_client, url)},
    )  # fmt: skip

    assert response.status_code == 302, page(response)
    saved = in_acme(lambda: Topic.objects.get(pk=edited.pk))
    assert (saved.title, saved.body, saved.slug) == ("New title", "New body", "new-title")
    assert in_acme(lambda: list(saved.tags.values_list("slug", flat=True))) == ["billing"]
    assert in_acme(lambda: list(Edit.objects.filter(topic=saved).values_list("title", "body"))) == [
        ("Old title", "Old body")
    ]
    assert in_acme(
        lambda: list(
            ModerationEntry.objects.filter(topic=saved).values_list("action", "reason", "actor")
        )
    ) == [("edit", "Clearer", mod.pk)]
    # The history and the log are on the page, read-only.
    content = page(moderator_client.get(url))
    assert "Old title" in content and "Clearer" in content and "Mia Moderator" in content
    assert 'name="edits-0-body"' not in content and 'name="moderation_log-0-reason"' not in content


def test_a_refused_edit_is_a_form_error(moderator_client, category, alice):
    edited = topic(category, alice, "Title", "Body")
    url = f"{TOPICS}{edited.pk}/change/"
    response = moderator_client.post(
        url,
        {"title": "Title", "body": "x" * 20_001, "reason": "", "_save": "Save",
         **inline_management(moderator_client, url)},
    )  # fmt: skip
    content = page(response)
    assert "At most 20000 characters (this has 20001)." in content
    assert in_acme(lambda: Topic.objects.get(pk=edited.pk).body) == "Body"


def test_the_record_is_read_only_and_topics_are_neither_added_nor_deleted(
    moderator_client, category, alice
):
    shown = topic(category, alice)
    content = page(moderator_client.get(f"{TOPICS}{shown.pk}/change/"))
    assert 'name="title"' in content and 'name="body"' in content
    assert 'name="category"' not in content and 'name="status"' not in content
    assert moderator_client.get(f"{TOPICS}add/").status_code == 403
    assert moderator_client.get(f"{TOPICS}{shown.pk}/delete/").status_code == 403


def test_a_topic_that_does_not_exist_is_not_a_500(moderator_client):
    response = moderator_client.get(f"{TOPICS}424242/change/")
    assert response.status_code == 302  # Django's "does not exist" redirect, with a message
    assert moderator_client.get(f"{TOPICS}not-a-number/change/").status_code == 302
