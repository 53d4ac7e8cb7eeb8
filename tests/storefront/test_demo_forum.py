"""The demo forum of each demo tenant: categories in English and German, topics and replies by
the demo customers in every state a forum shows, a moderator with a queue to work; seeding
it again writes nothing.

The forum needs no payment: it is seeded in the test's transaction, on the demo's customers
and tags (the rest of the demo, seeded by ``setup_demo``, is ``test_demo``'s).
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.content import services as content
from apps.events.models import OutboxEvent
from apps.forum import selectors as forum
from apps.forum.models import ForumCategory, Member, Reply, Subscription, Topic
from apps.storefront.demo import TAGS, SeedReport
from apps.storefront.demo_forum import FORUMS, MODERATORS, moderator_login, seed_forum
from apps.storefront.demo_orders import CUSTOMERS, seed_customers
from apps.tenancy.models import Tenant
from tests.index.support import forget_tenants

DEMO = ("acme", "globex")


@pytest.fixture
def demo_tenants(db):
    """acme and globex in English (default) and German, with the demo's customers and tags."""
    Tenant.objects.filter(slug__in=DEMO).update(enabled_locales=["en", "de"], default_locale="en")
    forget_tenants()
    for slug in DEMO:
        with schema_context(slug):
            seed_customers(slug=slug, report=SeedReport())
            for tag, names in TAGS.items():
                content.tag_get_or_create(
                    name=names["en"], slug=tag, translations={"de": {"name": names["de"]}}
                )


def _seed(slug: str) -> SeedReport:
    report = SeedReport()
    with schema_context(slug):
        seed_forum(slug=slug, report=report)
    return report


def _counts(slug: str) -> dict[str, int]:
    with schema_context(slug):
        return {
            "categories": ForumCategory.objects.count(),
            "topics": Topic.objects.count(),
            "replies": Reply.objects.count(),
            "members": Member.objects.count(),
            "subscriptions": Subscription.objects.count(),
            "users": get_user_model().objects.count(),
            "tags": sum(len(topic.tags.all()) for topic in Topic.objects.prefetch_related("tags")),
        }


@pytest.mark.parametrize("slug", DEMO)
def test_each_demo_tenant_gets_a_forum_with_work_for_its_moderator(demo_tenants, slug):
    report = _seed(slug)
    assert not report.kept

    with schema_context(slug):
        categories = {category.slug: category for category in forum.categories()}
        assert len(categories) == 4
        announcements = categories["announcements"]
        assert announcements.who_may_start == "staff" and not announcements.moderated
        assert announcements.name_in("de") == "Ankündigungen"
        introductions = categories["introductions"]
        assert introductions.moderated and introductions.name_in("de") == "Vorstellungsrunde"
        [child] = [category for category in categories.values() if category.parent_id]
        assert categories[child.parent.slug].parent_id is None
        for category in categories.values():
            # Named and described in both languages, each with its colour and emoji.
            assert category.name_in("de") != category.name_in("en")
            assert category.description_in("de") != category.description_in("en") != ""
            assert category.icon and category.colour.startswith("#")
        assert len({category.colour for category in categories.values()}) == 4

        topics = list(Topic.objects.select_related("category", "author"))
        assert len(topics) == len(FORUMS[slug].topics) == 10
        reviews = Counter(topic.review for topic in topics)
        assert reviews == {"approved": 9, "pending": 1}
        [pending_topic] = forum.pending_topics()
        assert pending_topic.category == introductions
        assert [t.title for t in topics if t.pinned] == [
            t.title for t in FORUMS[slug].topics if "pin" in t.actions
        ]
        assert sum(t.pinned for t in topics) == 1 and sum(t.status == "closed" for t in topics) == 1
        [solved] = [topic for topic in topics if topic.solution_id]
        assert solved.solution.status == "approved" and solved.solution.topic_id == solved.pk
        assert {topic.category for topic in topics if topic.pinned} == {announcements}
        assert all(topic.category != announcements or topic.author.is_staff for topic in topics)
        # Several customers started topics, in their own language.
        customers = {f"{c.handle}@{slug}.test": c for c in CUSTOMERS[slug]}
        by_customers = [topic for topic in topics if topic.author.username in customers]
        assert len({topic.author_id for topic in by_customers}) == 3
        assert {topic.locale for topic in by_customers} == {"en", "de"}
        for topic in by_customers:
            assert topic.locale == customers[topic.author.username].locale
        # Tags are the tenant's own.
        used = {tag.slug for topic in topics for tag in topic.tags.all()}
        assert used and used <= set(TAGS)
        # Replies: public ones, and ones waiting in the moderated category.
        replies = Reply.objects.select_related("topic__category")
        planned = [reply for topic in FORUMS[slug].topics for reply in topic.replies]
        assert replies.filter(status="approved").count() == sum(r.approved for r in planned) >= 10
        pending = list(forum.pending_replies())
        assert len(pending) == 2
        assert {reply.topic.category_id for reply in pending} == {introductions.pk}
        assert all(reply.topic.review == "approved" for reply in pending)
        # Mentions of members are links to their pages.
        assert replies.filter(body_html__contains='href="/forum/u/').count() >= 2

        email, password = moderator_login(slug)
        moderator = get_user_model().objects.get(username=email)
        assert moderator.check_password(password) and forum.is_moderator(moderator)
        assert forum.member_by_handle(moderator.forum_member.handle).user == moderator
        assert moderator.profile.display_name == MODERATORS[slug]


def test_seeding_again_writes_nothing(demo_tenants):
    for slug in DEMO:
        _seed(slug)
    before = {slug: _counts(slug) for slug in DEMO}
    events = OutboxEvent.objects.count()

    reports = [_seed(slug) for slug in DEMO]
    assert [report.created for report in reports] == [[], []]
    assert {slug: _counts(slug) for slug in DEMO} == before
    assert OutboxEvent.objects.count() == events
    assert before["acme"]["categories"] == 4 and before["acme"]["topics"] == 10


def test_a_tenant_without_demo_customers_gets_no_forum(demo_tenants):
    with schema_context("acme"):
        get_user_model().objects.filter(username="lena@acme.test").delete()
    report = _seed("acme")
    assert report.created == []
    assert _counts("acme")["categories"] == 0
