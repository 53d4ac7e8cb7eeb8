"""``GET /api/v1/events/``: the tenant's event feed, for integrators that pull instead of
receiving webhooks.

Thin delivery over ``apps.events.selectors.feed_page`` (the order, the frontier and the
retention horizon are the selector's business). Who may read it: every event of the tenant
is in it (people's and keys' events included), so a staff user needs to be a superuser or to
hold ``events.view_outboxevent``; a secret key needs the ``events:read`` scope on top of its
owner's right; a publishable key never (``permissions.StaffModelPermissions``).
"""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.events import selectors as events


class ActorOut(serializers.Serializer):
    kind = serializers.CharField(help_text="user, api_key or system.")
    id = serializers.CharField()
    label = serializers.CharField(help_text="A user's login, a key's name, a system task.")
    owner = serializers.DictField(
        required=False, help_text="For an API key: the user it acts for (kind, id, label)."
    )


class FeedEventOut(serializers.Serializer):
    id = serializers.UUIDField(source="event_id")
    type = serializers.CharField(source="event_type")
    version = serializers.IntegerField(
        source="schema_version", help_text="Of the payload's schema."
    )
    occurred_at = serializers.DateTimeField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    aggregate_version = serializers.IntegerField(allow_null=True)
    correlation_id = serializers.CharField()
    causation_id = serializers.UUIDField(allow_null=True)
    actor = ActorOut(allow_null=True)
    payload = serializers.DictField()
    position = serializers.IntegerField(help_text="The event's number in the outbox.")
    cursor = serializers.CharField(help_text="Resume after this event with ?after=<cursor>.")


class FeedPageOut(serializers.Serializer):
    results = FeedEventOut(many=True, source="events")
    next = serializers.CharField(
        help_text="Pass as ?after= to read on; the same cursor again when nothing was new."
    )


class FeedQuery(serializers.Serializer):
    after = serializers.CharField(required=False, help_text="The next cursor of an earlier answer.")
    types = serializers.CharField(
        required=False, help_text="Comma-separated: exact types or prefixes (commerce.*)."
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=events.FEED_MAX_LIMIT,
        default=events.FEED_DEFAULT_LIMIT,
    )


class EventFeedView(APIView):
    # The API's one permission class decides, as for every other resource: the outbox's
    # model permission (``events.view_outboxevent``; superusers have it) and, for a key,
    # the ``events:read`` scope. The rows are read through ``events.feed_page``.
    queryset = events.outbox_event_list()
    problem_responses = {
        None: {
            "400": "A malformed cursor, types filter or limit; see errors.",
            "410": "Events after the cursor were deleted (past the retention window).",
        }
    }

    @extend_schema(
        summary="Read the site's events in order",
        description=(
            "The site's events, oldest first, in an order that a poller resumes without missing "
            "any: pass the answer's `next` as `after` to read on. An event appears once every "
            "transaction running when it was written has ended. Events are kept for the "
            "retention window (30 days by default); a cursor older than that is a **410**."
        ),
        parameters=[
            OpenApiParameter("after", str, description="The next cursor of an earlier answer."),
            OpenApiParameter(
                "types", str, description="Comma-separated types or prefixes (`commerce.*`)."
            ),
            OpenApiParameter("limit", int, description="1 to 500, 100 by default."),
        ],
        responses=FeedPageOut,
    )
    def get(self, request):
        query = FeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        after = data.get("after")
        page = events.feed_page(
            tenant_id=connection.tenant.pk,
            after=events.FeedCursor.parse(after) if after is not None else None,
            types=events.parse_types(data.get("types")),
            limit=data["limit"],
        )
        return Response(FeedPageOut(page).data)
