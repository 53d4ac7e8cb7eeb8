"""The deliveries list says what a delivery is, with rows and without."""

from __future__ import annotations

from apps.events.models import Delivery
from tests.events.support import committed_operator, make_dead_letters

DELIVERIES = "/admin/events/delivery/"
EXPLAINED = "one event that one handler has not handled yet because of a failure"
NONE_YET = "There are none: every handler has handled every event so far"


def text_of(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_an_empty_list_says_what_a_delivery_is_and_that_there_are_none(operator_client):
    assert not Delivery.objects.exists()
    content = text_of(operator_client.get(DELIVERIES))
    assert EXPLAINED in content
    for kind in ("waiting to retry", "held behind an earlier failure", "dead letter"):
        assert kind in content
    assert NONE_YET in content


def test_a_list_with_dead_letters_explains_them_without_saying_none(clean_events, rds, settings):
    make_dead_letters(rds, settings)
    with committed_operator() as client:
        content = text_of(client.get(DELIVERIES))
        assert EXPLAINED in content
        assert NONE_YET not in content
        # filtered to nothing, there still are deliveries: not "none"
        filtered = text_of(client.get(DELIVERIES, {"status__exact": "retry"}))
        assert NONE_YET not in filtered
