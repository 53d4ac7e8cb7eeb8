"""Topic views: counted in Redis per view, added to the topics by the flush, tenant by tenant."""

import redis
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from apps.core.breakers import REDIS, breaker
from apps.forum import selectors, services, view_counts
from apps.forum.models import Topic

from . import factories


def test_views_are_added_by_the_flush_only_for_tenants_with_views(category, alice, globex):
    topic = services.topic_start(category_id=category.pk, title="Seen", body="B", actor=alice)
    for _ in range(3):
        assert view_counts.record_view(topic.pk)
    assert Topic.objects.get(pk=topic.pk).views_count == 0
    with schema_context(globex.schema_name):
        other = factories.category(name="Elsewhere")
        assert other.pk  # globex has a forum too, and no views
    schema = connection.schema_name
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert {m.decode() for m in client.smembers(view_counts.SCHEMAS)} == {schema}

    assert view_counts.flush_views() == 1
    assert Topic.objects.get(pk=topic.pk).views_count == 3
    assert client.smembers(view_counts.SCHEMAS) == set()
    assert view_counts.flush_views() == 0
    assert Topic.objects.get(pk=topic.pk).views_count == 3


def test_a_view_with_redis_away_is_not_counted_and_does_not_fail(category, alice):
    topic = services.topic_start(category_id=category.pk, title="Seen", body="B", actor=alice)
    breaker(REDIS).open()
    assert view_counts.record_view(topic.pk) is False
    assert selectors.topic_get(topic.pk).views_count == 0


def test_unsubscribe_tokens_are_bound_to_their_tenant(in_acme, globex):
    token = selectors.unsubscribe_token(user_id=7, topic_id=42)
    assert selectors.unsubscribe_target(token) == (7, 42)
    assert selectors.unsubscribe_target(token + "x") is None
    assert selectors.unsubscribe_target("7.42") is None
    with schema_context(globex.schema_name):
        assert selectors.unsubscribe_target(token) is None


def test_the_flush_adds_every_topics_views_in_one_update(
    category, alice, django_assert_num_queries
):
    topics = [
        services.topic_start(category_id=category.pk, title=f"T{n}", body="B", actor=alice)
        for n in range(6)
    ]
    counts = {topic.pk: n + 1 for n, topic in enumerate(topics)}
    with django_assert_num_queries(1):
        assert services.topic_views_add(counts=counts) == 6
    views = dict(Topic.objects.filter(pk__in=counts).values_list("pk", "views_count"))
    assert views == counts
