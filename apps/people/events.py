"""Events of the people module."""

from pydantic import Field

from apps.events.schema import AggregateVersion, DomainEvent


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
