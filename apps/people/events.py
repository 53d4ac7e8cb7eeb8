"""Events of the people module."""

from typing import ClassVar

from pydantic import Field

from apps.events.schema import AggregateVersion, DomainEvent, Text


class ProfileUpdated(DomainEvent):
    """What the public sees of a person changed: their display name or their full name.

    The payload names the person only: subscribers read the current name through
    ``apps.people.selectors`` (the login email is never in an event).
    """

    event_type = "people.profile.updated"
    aggregate_type = "profile"
    aggregate_id_field = "user_id"
    aggregate_version_field = "version"

    user_id: int = Field(ge=1)
    version: AggregateVersion


# -- customers -------------------------------------------------------------------------------


class CustomerSignedUp(DomainEvent):
    """A shopper made an account on the storefront. The payload never holds the login email:
    subscribers that need to write to the customer read it through the people module."""

    event_type = "people.customer.signed_up"
    aggregate_type = "customer"
    aggregate_id_field = "user_id"

    user_id: int = Field(ge=1)
    locale: Text(16)


class _AddressEvent(DomainEvent):
    """A change to a customer's address book (one aggregate per customer, so in order)."""

    abstract: ClassVar[bool] = True
    aggregate_type = "address_book"
    aggregate_id_field = "user_id"

    user_id: int = Field(ge=1)
    address_id: int = Field(ge=1)


class AddressAdded(_AddressEvent):
    event_type = "people.address.added"
    is_default: bool


class AddressUpdated(_AddressEvent):
    event_type = "people.address.updated"


class AddressRemoved(_AddressEvent):
    event_type = "people.address.removed"


class DefaultAddressChanged(_AddressEvent):
    """``address_id`` is now the customer's default shipping address."""

    event_type = "people.address.default_changed"


# -- api keys --------------------------------------------------------------------------------


class _ApiKeyEvent(DomainEvent):
    """A change to an API key. Never the key nor its digest: the prefix names it to people."""

    abstract: ClassVar[bool] = True
    aggregate_type = "api_key"
    aggregate_id_field = "key_id"

    key_id: int = Field(ge=1)
    owner_id: int = Field(ge=1)
    prefix: Text(32)


class ApiKeyCreated(_ApiKeyEvent):
    event_type = "people.api_key.created"
    kind: Text(16)
    scopes: list[Text(32)]


class ApiKeyRevoked(_ApiKeyEvent):
    event_type = "people.api_key.revoked"
