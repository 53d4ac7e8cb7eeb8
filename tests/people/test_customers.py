"""Customers: the sign-up service, the one address check (per country), the address book's
services and selectors, the country list."""

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.events.models import OutboxEvent
from apps.people import selectors, services
from apps.people.errors import AddressInvalid, AddressNotFound, CustomerInvalid

pytestmark = pytest.mark.usefixtures("acme_schema")

PASSWORD = "plum-orchard-42"
BERLIN = {"name": "Ada K", "street": "Unter den Linden 1", "postal_code": "10117",
          "city": "Berlin", "country": "DE"}  # fmt: skip


@pytest.fixture
def acme_schema(db):
    with schema_context("acme"):
        yield


def events(prefix: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(event_type__startswith=prefix).order_by("position"))


def customer(email="ada@example.test", name="Ada"):
    return services.customer_sign_up(email=email, password=PASSWORD, display_name=name)


# -- sign-up ---------------------------------------------------------------------------------


def test_sign_up_makes_a_non_staff_user_named_by_email_with_a_display_name():
    user = services.customer_sign_up(
        email="  Ada@Example.TEST ", password=PASSWORD, display_name=" Ada  L ", locale="de"
    )
    stored = get_user_model().objects.select_related("profile").get(pk=user.pk)
    assert stored.username == stored.email == "ada@example.test"
    assert not stored.is_staff and not stored.is_superuser and stored.is_active
    assert stored.check_password(PASSWORD)
    assert selectors.display_name(stored) == "Ada L"
    (event,) = events("people.customer.")
    assert event.event_type == "people.customer.signed_up"
    assert event.payload == {"user_id": user.pk, "locale": "de"}
    # The email is in no public place: neither the payload nor the envelope's actor.
    assert "ada@example" not in str(event.payload) + str(event.actor)


def test_one_account_per_email_whatever_its_case():
    customer()
    with pytest.raises(CustomerInvalid) as taken:
        customer(email="ADA@example.test", name="Other")
    assert set(taken.value.errors) == {"email"}
    assert get_user_model().objects.filter(username__iexact="ada@example.test").count() == 1
    assert len(events("people.customer.")) == 1


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),  # common
        ({"password": "ada@example.test"}, "password"),  # like the email
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "a\x00b"}, "display_name"),
    ],
)
def test_bad_sign_ups_are_refused_with_the_field_and_nothing_is_written(fields, bad):
    data = {"email": "ada@example.test", "password": PASSWORD, "display_name": "Ada", **fields}
    with pytest.raises(CustomerInvalid) as refused:
        services.customer_sign_up(**data)
    assert bad in refused.value.errors and refused.value.status == 422
    assert not get_user_model().objects.filter(username="ada@example.test").exists()
    assert events("people.") == []


# -- address_clean ---------------------------------------------------------------------------


def test_a_german_address_is_trimmed_and_its_country_upper_cased():
    cleaned = services.address_clean({**BERLIN, "country": "de", "city": "  Berlin "})
    assert cleaned == {**BERLIN, "company": "", "street2": "", "region": "", "phone": ""}


@pytest.mark.parametrize("postal_code", ["1011", "101177", "ABCDE", ""])
def test_a_german_postal_code_has_five_digits(postal_code):
    with pytest.raises(AddressInvalid) as refused:
        services.address_clean({**BERLIN, "postal_code": postal_code})
    assert set(refused.value.errors) == {"postal_code"}


def test_a_us_address_needs_a_state_and_a_zip_code():
    address = {"name": "Al", "street": "1 Main St", "city": "New York", "country": "US"}
    with pytest.raises(AddressInvalid) as refused:
        services.address_clean({**address, "postal_code": "1001"})
    assert set(refused.value.errors) == {"postal_code", "region"}
    cleaned = services.address_clean({**address, "postal_code": "10001-1234", "region": "new york"})
    assert (cleaned["region"], cleaned["postal_code"]) == ("NY", "10001-1234")


def test_a_british_postcode_is_checked_and_normalised():
    address = {"name": "Bo", "street": "10 Downing Street", "city": "London", "country": "gb"}
    with pytest.raises(AddressInvalid) as refused:
        services.address_clean({**address, "postal_code": "XX 12345"})
    assert set(refused.value.errors) == {"postal_code"}
    assert services.address_clean({**address, "postal_code": "sw1a 2aa"})["postal_code"] == (
        "SW1A 2AA"
    )


@pytest.mark.parametrize("country", ["ZZ", "XX", "DEU", "", "d", 49])
def test_an_unknown_country_is_refused(country):
    with pytest.raises(AddressInvalid) as refused:
        services.address_clean({**BERLIN, "country": country})
    assert "country" in refused.value.errors


def test_address_messages_are_translated():
    from django.utils import translation

    with translation.override("de"), pytest.raises(AddressInvalid) as refused:
        services.address_clean({**BERLIN, "postal_code": "1"})
    assert refused.value.errors["postal_code"] == "Diese Postleitzahl passt nicht zum Land."


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*services.ADDRESS_FIELDS, "extra"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=300)),
    )
)
def test_address_clean_returns_clean_data_or_refuses_never_anything_else(data):
    try:
        cleaned = services.address_clean(data)
    except AddressInvalid as refused:
        assert refused.errors and all(isinstance(m, str) and m for m in refused.errors.values())
        return
    assert set(cleaned) == set(services.ADDRESS_FIELDS)
    assert len(cleaned["country"]) == 2 and cleaned["name"] and cleaned["street"]
    # Clean data is a fixed point: the checkout may clean it again.
    assert services.address_clean(cleaned) == cleaned


# -- the address book ------------------------------------------------------------------------


def test_the_first_address_is_the_default_and_a_new_default_replaces_it():
    user = customer()
    first = services.address_create(user_id=user.pk, data=BERLIN)
    second = services.address_create(user_id=user.pk, data={**BERLIN, "name": "Two"})
    assert first.is_default and not second.is_default
    services.address_set_default(user_id=user.pk, address_id=second.pk)
    assert [a.name for a in selectors.addresses(user.pk)] == ["Two", "Ada K"]
    assert [a.is_default for a in selectors.addresses(user.pk)] == [True, False]
    types = [e.event_type for e in events("people.address.")]
    assert types == ["people.address.added", "people.address.added",
                     "people.address.default_changed"]  # fmt: skip
    assert all(e.payload["user_id"] == user.pk for e in events("people.address."))


def test_deleting_the_default_makes_another_the_default():
    user = customer()
    first = services.address_create(user_id=user.pk, data=BERLIN)
    second = services.address_create(user_id=user.pk, data={**BERLIN, "name": "Two"})
    services.address_delete(user_id=user.pk, address_id=first.pk)
    (left,) = selectors.addresses(user.pk)
    assert left.pk == second.pk and left.is_default


def test_an_update_is_cleaned_and_only_a_change_is_announced():
    user = customer()
    address = services.address_create(user_id=user.pk, data=BERLIN)
    services.address_update(user_id=user.pk, address_id=address.pk, data=BERLIN)
    assert [e.event_type for e in events("people.address.")] == ["people.address.added"]
    with pytest.raises(AddressInvalid):
        services.address_update(
            user_id=user.pk, address_id=address.pk, data={**BERLIN, "postal_code": "1"}
        )
    services.address_update(
        user_id=user.pk, address_id=address.pk, data={**BERLIN, "city": "Potsdam",
                                                      "postal_code": "14467"}
    )  # fmt: skip
    assert selectors.address_of(user.pk, address.pk).city == "Potsdam"
    assert len(events("people.address.updated")) == 1


def test_another_customers_address_is_as_unknown_as_a_missing_one():
    ada, bob = customer(), customer(email="bob@example.test", name="Bob")
    address = services.address_create(user_id=ada.pk, data=BERLIN)
    for write in (
        lambda: services.address_update(user_id=bob.pk, address_id=address.pk, data=BERLIN),
        lambda: services.address_delete(user_id=bob.pk, address_id=address.pk),
        lambda: services.address_set_default(user_id=bob.pk, address_id=address.pk),
    ):
        with pytest.raises(AddressNotFound):
            write()
    assert selectors.address_of(bob.pk, address.pk) is None
    assert selectors.address_of(ada.pk, address.pk).name == "Ada K"


# -- countries -------------------------------------------------------------------------------


def test_countries_are_named_in_the_locale_and_sorted_by_that_name():
    german = dict(selectors.countries("de"))
    assert german["DE"] == "Deutschland" and german["AT"] == "Österreich"
    names = [name for _code, name in selectors.countries("de")]
    # Accents aside: Österreich sits among the O, not after Z.
    assert names.index("Oman") < names.index("Österreich") < names.index("Pakistan")
    assert dict(selectors.countries("en"))["DE"] == "Germany"
    assert len(german) == len(selectors.countries("xx-unknown")) >= 249
