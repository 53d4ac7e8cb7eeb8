"""The replies' list, actions (with a reason) and reports; the reports' read-only list."""

from __future__ import annotations

import re

from apps.forum import services
from apps.forum.models import Flag, ModerationEntry, Reply, Review
from tests.forum import factories

from .conftest import (
    FLAGS,
    REPLIES,
    act,
    confirm,
    flag,
    in_acme,
    inline_management,
    messages_of,
    page,
    refusal,
    reply,
    topic,
)


def excerpts(content: str) -> list[str]:
    return re.findall(
        r'<td class="field-reply_cell"><a class="list-title" href="[^"]+">([^<]+)</a>', content
    )


def test_the_list_shows_excerpt_topic_author_status_and_reports(
    moderator_client, category, alice, bob, mod
):
    thread = topic(category, alice, "Thread")
    reported, quiet = reply(thread, alice, "Buy cheap pills"), reply(thread, bob, "Quiet reply")
    flag(reported, bob, "spam")
    carol = in_acme(factories.member, name="Carol")
    flag(reported, carol, "abuse")

    content = page(moderator_client.get(REPLIES))

    row = content.split(">Buy cheap pills</a>", 1)[1].split("</tr>", 1)[0]
    assert "Thread" in row and "Alice Example" in row and "Approved" in row and "2 of 2" in row
    assert excerpts(page(moderator_client.get(REPLIES, {"flagged": "open"}))) == ["Buy cheap pills"]
    assert excerpts(page(moderator_client.get(REPLIES, {"flagged": "none"}))) == ["Quiet reply"]
    assert alice.email not in content and bob.email not in content
    assert "Quiet reply" in content and quiet.pk


def test_hide_with_a_reason_resolves_the_reports_and_logs_the_reply(
    moderator_client, category, alice, bob, mod
):
    thread = topic(category, alice)
    bad, fine = reply(thread, alice, "Bad"), reply(thread, alice, "Fine")
    flag(bad, bob)

    confirmation = page(act(moderator_client, REPLIES, "hide_selected", [bad]))
    assert "Approved · 1 open report" in confirmation

    response = confirm(moderator_client, REPLIES, "hide_selected", [bad, fine], reason="Spam")
    assert messages_of(response) == ["Hidden 2 replies: “Bad”, “Fine”."]
    assert in_acme(lambda: Reply.objects.get(pk=bad.pk).status) == Review.HIDDEN
    assert in_acme(lambda: list(Flag.objects.values_list("resolution", "resolved_by"))) == [
        ("hide", mod.pk)
    ]
    assert in_acme(
        lambda: list(
            ModerationEntry.objects.filter(reply=bad).values_list("action", "reason", "actor")
        )
    ) == [("hide", "Spam", mod.pk)]


def test_a_refused_reply_action_is_reported(moderator_client, category, alice):
    thread = topic(category, alice)
    approved = reply(thread, alice, "Approved already")
    response = confirm(moderator_client, REPLIES, "approve_selected", [approved])
    assert messages_of(response) == [
        "“Approved already” was not approved. "
        + refusal(services.REPLY_REVIEW, Review.APPROVED, "approve")
    ]


def test_dismiss_reports_keeps_the_reply_and_reports_those_without(
    moderator_client, category, alice, bob, mod
):
    thread = topic(category, alice)
    reported, unreported = reply(thread, alice, "Reported"), reply(thread, alice, "Unreported")
    flag(reported, bob, "off_topic", note="Not about this")

    response = confirm(
        moderator_client, REPLIES, "dismiss_reports_selected", [reported, unreported],
        reason="It is on topic",
    )  # fmt: skip

    assert messages_of(response) == [
        "Dismissed the reports of 1 reply: “Reported”.",
        "The reports of “Unreported” were not dismissed. This reply has no open report.",
    ]
    assert in_acme(lambda: Reply.objects.get(pk=reported.pk).status) == Review.APPROVED
    assert in_acme(lambda: list(Flag.objects.values_list("resolution", "resolved_by"))) == [
        ("dismiss", mod.pk)
    ]
    assert in_acme(
        lambda: list(ModerationEntry.objects.filter(reply=reported).values_list("reason"))
    ) == [("It is on topic",)]


def test_the_change_page_shows_the_reports_and_edits_the_body(
    moderator_client, category, alice, bob, mod
):
    thread = topic(category, alice)
    reported = reply(thread, alice, "Original")
    flag(reported, bob, "abuse", note="Rude")
    url = f"{REPLIES}{reported.pk}/change/"

    content = page(moderator_client.get(url))
    assert "Rude" in content and "Bob Example" in content and bob.email not in content
    assert 'value="hide_selected"' in content and 'value="dismiss_reports_selected"' in content
    assert f'href="/forum/r/{reported.pk}/"' in content

    response = moderator_client.post(
        url,
        {"body": "Edited", "reason": "Tone", "_save": "Save",
         **inline_management(moderator_client, url)},
    )  # fmt: skip
    assert response.status_code == 302
    assert in_acme(lambda: Reply.objects.get(pk=reported.pk).body) == "Edited"
    assert in_acme(
        lambda: list(ModerationEntry.objects.filter(reply=reported).values_list("action", "reason"))
    ) == [("edit", "Tone")]


def test_reports_are_listed_read_only_open_and_resolved(
    moderator_client, category, alice, bob, mod
):
    thread = topic(category, alice)
    first, second = reply(thread, alice, "First reply"), reply(thread, alice, "Second reply")
    flag(first, bob, "spam", note="Ads")
    flag(second, bob, "abuse")
    in_acme(services.reply_flags_dismiss, reply_id=second.pk, actor=mod)

    content = page(moderator_client.get(FLAGS))
    assert "First reply" in content and "Second reply" in content
    assert "Ads" in content and "Bob Example" in content and bob.email not in content
    assert '<td class="field-outcome">Dismiss reports by Mia Moderator</td>' in content
    assert '<td class="field-outcome">Open</td>' in content
    assert 'name="action"' not in content and f"{FLAGS}add/" not in content
    open_only = page(moderator_client.get(FLAGS, {"resolved": "no"}))
    assert "First reply" in open_only and "Second reply" not in open_only
    flag_id = in_acme(lambda: Flag.objects.get(reply=first).pk)
    view = page(moderator_client.get(f"{FLAGS}{flag_id}/change/"))
    assert 'name="_save"' not in view
