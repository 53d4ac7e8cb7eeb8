"""A person's public name: the profile service, its event, the selectors and the user admin."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from apps.events.models import OutboxEvent
from apps.people import selectors, services
from apps.people.errors import PersonNotFound, ProfileInvalid
from apps.people.models import Profile
from tests.conftest import as_tenant_admin
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("acme_schema")


@pytest.fixture
def acme_schema(db):
    with schema_context("acme"):
        yield


def profile_events() -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(event_type="people.profile.updated").order_by("position")
    )


def person(first="Grace", last="Hopper"):
    return UserFactory(first_name=first, last_name=last)


# -- the service --------------------------------------------------------------------------


def test_a_display_name_is_trimmed_and_announced_with_a_version():
    user = person()
    profile = services.profile_update(user_id=user.pk, display_name="  Amazing   Grace ")
    assert profile.display_name == "Amazing Grace" and profile.version == 1
    (event,) = profile_events()
    assert event.payload == {"user_id": user.pk, "version": 1}
    assert event.aggregate_type == "profile" and event.aggregate_id == str(user.pk)
    assert event.schema_name == "acme"
    # The payload names the person only: never their login email.
    assert user.username not in str(event.payload)

    services.profile_update(user_id=user.pk, display_name="Admiral")
    assert [e.payload["version"] for e in profile_events()] == [1, 2]


def test_nothing_the_public_sees_changed_means_no_event():
    user = person()
    services.profile_update(user_id=user.pk, display_name="Amazing Grace")
    services.profile_update(user_id=user.pk, display_name="Amazing Grace")
    # A new full name behind a display name: the public still sees the display name.
    services.profile_update(user_id=user.pk, display_name=None, first_name="Gracie")
    assert len(profile_events()) == 1
    assert get_user_model().objects.get(pk=user.pk).first_name == "Gracie"
    # Clearing the display name shows the full name: that is a change.
    services.profile_update(user_id=user.pk, display_name="")
    assert len(profile_events()) == 2


def test_a_full_name_change_is_announced_when_it_is_what_the_public_sees():
    user = person()
    services.profile_update(user_id=user.pk, display_name=None, last_name="Murray Hopper")
    (event,) = profile_events()
    assert event.payload["user_id"] == user.pk
    assert selectors.display_name(get_user_model().objects.get(pk=user.pk)) == "Grace Murray Hopper"


@pytest.mark.parametrize(
    "bad",
    ["nul\x00byte", "line\nbreak", "tab\there", "x" * 101],
)
def test_bad_display_names_are_refused_and_nothing_is_written(bad):
    user = person()
    with pytest.raises(ProfileInvalid) as refused:
        services.profile_update(user_id=user.pk, display_name=bad)
    assert set(refused.value.errors) == {"display_name"} and refused.value.status == 422
    assert not Profile.objects.filter(user=user).exists() and not profile_events()


def test_an_unknown_person_is_not_found():
    with pytest.raises(PersonNotFound):
        services.profile_update(user_id=987654321, display_name="Nobody")
    assert not profile_events()


def test_the_table_refuses_an_untrimmed_name_written_around_the_service():
    from django.db import IntegrityError, transaction

    user = person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=user, display_name=" padded")


# -- the selectors ------------------------------------------------------------------------


def test_display_name_falls_back_to_the_full_name_then_to_nothing():
    named = person()
    services.profile_update(user_id=named.pk, display_name="Amazing Grace")
    plain = person("Alan", "Turing")
    nameless = person("", "")
    users = {u.pk: u for u in get_user_model().objects.select_related(selectors.PROFILE)}
    assert selectors.display_name(users[named.pk]) == "Amazing Grace"
    assert selectors.display_name(users[plain.pk]) == "Alan Turing"
    assert selectors.display_name(users[nameless.pk]) == ""
    assert selectors.display_name(None) == ""


def test_display_names_of_many_people_cost_one_query(django_assert_num_queries):
    people = [person(f"First{n}", f"Last{n}") for n in range(30)]
    for somebody in people[:10]:
        services.profile_update(user_id=somebody.pk, display_name=f"Pen name {somebody.pk}")
    ids = [somebody.pk for somebody in people]
    with django_assert_num_queries(1):
        names = selectors.display_names([*ids, None])
    assert len(names) == 30
    assert names[people[0].pk] == f"Pen name {people[0].pk}"
    assert names[people[20].pk] == "First20 Last20"
    for somebody in people:
        assert somebody.username not in names.values()


# -- the user admin -----------------------------------------------------------------------


def _change_form_data(user, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": "",
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "10:00:00",
    }
    data.update(changes)
    return data


def test_the_user_change_page_edits_the_display_name_through_the_service(acme_client):
    user = person()
    admin = as_tenant_admin(acme_client)
    url = f"/admin/auth/user/{user.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200 and 'name="display_name"' in page.content.decode()

    response = admin.post(url, _change_form_data(user, display_name=" Amazing Grace "))
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context("acme"):
        assert Profile.objects.get(user=user).display_name == "Amazing Grace"
        (event,) = profile_events()
        assert event.actor["id"] == str(get_user_model().objects.get(username="admin@acme.test").pk)
    assert 'value="Amazing Grace"' in admin.get(url).content.decode()

    # A new last name alone is announced too when it is what the public sees.
    response = admin.post(url, _change_form_data(user, display_name="", last_name="Murray Hopper"))
    assert response.status_code == 302
    with schema_context("acme"):
        assert get_user_model().objects.get(pk=user.pk).last_name == "Murray Hopper"
        assert len(profile_events()) == 2


def test_a_bad_display_name_in_the_admin_is_a_form_error(acme_client):
    user = person()
    admin = as_tenant_admin(acme_client)
    url = f"/admin/auth/user/{user.pk}/change/"
    response = admin.post(url, _change_form_data(user, display_name="tab\there"))
    assert response.status_code == 200
    assert "control characters" in response.content.decode()
    with schema_context("acme"):
        assert not Profile.objects.filter(user=user).exists() and not profile_events()
