"""/api/v1/forum/...: the forum's categories, topics, replies and reports, through its services.

Every read goes through ``apps.forum.selectors`` (which decides once who sees what: the
public sees approved posts, an author also their own pending or hidden ones, a moderator
everything) and every write is one call of a function of ``apps.forum.services``, which
checks the members' rules under the row's lock and publishes; nothing here opens a
transaction. The moderation actions are derived from ``TOPIC_ACTIONS`` and ``REPLY_REVIEW``
and are the forum's moderators' (``selectors.is_moderator``), not every staff user who may
change a topic. A topic's counters come from the forum's listing in ``apps.index`` (never
counted here), which is why a topic's ETag is a digest of its representation: its own
``version`` does not move when a reply is counted.

The caller acts as the API key's owner (or the signed-in staff user): topics and replies are
theirs, posting and reporting count against their rate limits. A publishable key reads what
the public sees. Ids that a request body names are 400s with the field's name when unknown;
ids in the URL are 404s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.rate_limits import rate_limit
from apps.forum import selectors, services
from apps.forum.errors import ForumCategoryNotFound, NotAllowed, ReplyNotFound, TopicNotFound
from apps.forum.flags import mentions_active
from apps.forum.models import FlagReason, Review, TopicStatus
from apps.forum.services import REPLY_REVIEW, TOPIC_ACTIONS
from apps.index import selectors as index
from apps.tenancy.selectors import current_locales

from . import forum_serializers as io
from .filters import IdFilter
from .permissions import reads_as_public
from .schema import ProblemSerializer
from .viewsets import ApiViewSetMixin

POST_LIMIT = "forum_post_user"
FLAG_LIMIT = "forum_flag_user"
TOO_LARGE = {"413": "The body is longer than the forum accepts."}


def _field_error(call: Callable[[], Any], **fields: type[Exception]) -> Any:
    """Run ``call``; a row the body names that does not exist is a 400 on the field naming it."""
    try:
        return call()
    except tuple(fields.values()) as error:
        name = next(name for name, kind in fields.items() if isinstance(error, kind))
        raise serializers.ValidationError({name: [str(error.detail)]}) from None


def _validated(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _require_moderator(request: Request) -> None:
    """Moderation is the forum's moderators' (``selectors.is_moderator``), not every staff user
    who may change topics (their own, within the edit window)."""
    if not selectors.is_moderator(request.user):
        raise NotAllowed(_("Only the forum's moderators do this."))


def _count_against(request: Request, limit: str) -> None:
    """Count the request against the caller's forum rate limit (429 with Retry-After over it)."""
    rate_limit(request, (limit, str(request.user.pk)))


def _viewer(request: Request):
    """Whose sight the rows are read with: the public's for a publishable key."""
    return None if reads_as_public(request) else request.user


# -- categories --------------------------------------------------------------------------------


class ForumCategoryFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="Subcategories of this category.")


@extend_schema_view(
    list=extend_schema(summary="List forum categories", responses=io.ForumCategoryOut(many=True)),
    retrieve=extend_schema(summary="Get a forum category", responses=io.ForumCategoryOut),
    create=extend_schema(
        summary="Create a forum category",
        request=io.ForumCategoryCreateIn,
        responses=io.ForumCategoryOut,
    ),
    partial_update=extend_schema(
        summary="Change or move a forum category",
        request=io.ForumCategoryUpdateIn,
        responses=io.ForumCategoryOut,
    ),
    destroy=extend_schema(
        summary="Delete an empty forum category (no topics, no subcategories)",
        responses={204: None},
    ),
)
class ForumCategoryViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """The forum's categories (one level of subcategories), named per locale."""

    filterset_class = ForumCategoryFilter
    ordering_fields = ("position", "name", "slug", "created_at")
    ordering = ("position", "name")
    conflict_actions = ("destroy",)

    def get_queryset(self):
        return selectors.categories()

    def _answer(self, category_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        category = selectors.category_get(category_id)
        return Response(io.ForumCategoryOut(category).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.ForumCategoryOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.ForumCategoryOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.ForumCategoryCreateIn, request)
        category = services.category_create(actor=request.user, **data)
        return self._answer(category.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        data = _validated(io.ForumCategoryUpdateIn, request)
        services.category_update(category_id=category.pk, actor=request.user, **data)
        return self._answer(category.pk)

    def destroy(self, request: Request, pk: str) -> Response:
        services.category_delete(category_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- topics ------------------------------------------------------------------------------------


class TopicFilter(filters.FilterSet):
    category = IdFilter(field_name="category_id", help_text="Topics of this category.")
    status = filters.ChoiceFilter(choices=TopicStatus.choices)
    review = filters.ChoiceFilter(choices=Review.choices)
    tag = filters.CharFilter(field_name="tags__slug", help_text="Topics with this tag (slug).")
    author = IdFilter(field_name="author_id", help_text="Topics started by this user.")
    pinned = filters.BooleanFilter()


def _topic_views():
    actions = {
        name: extend_schema(
            summary=f"{t.label} a topic ({' | '.join(sorted(t.sources))} -> {t.target})",
            request=io.ReasonIn,
            responses=io.TopicOut,
        )
        for name, t in TOPIC_ACTIONS.items()
    }
    return extend_schema_view(
        list=extend_schema(summary="List forum topics", responses=io.TopicOut(many=True)),
        retrieve=extend_schema(summary="Get a forum topic", responses=io.TopicOut),
        create=extend_schema(
            summary="Start a topic (as the caller)",
            request=io.TopicCreateIn,
            responses={
                201: io.TopicOut,
                413: OpenApiResponse(ProblemSerializer, description=TOO_LARGE["413"]),
            },
        ),
        partial_update=extend_schema(
            summary="Change a topic's title, body or tags",
            request=io.TopicUpdateIn,
            responses=io.TopicOut,
        ),
        move=extend_schema(
            summary="Move a topic to another category",
            request=io.TopicMoveIn,
            responses=io.TopicOut,
        ),
        solve=extend_schema(
            summary="Mark the reply that answers a topic (null: none)",
            request=io.TopicSolveIn,
            responses=io.TopicOut,
        ),
        **actions,
    )


class TopicViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Forum topics the caller may see, with their counters; moderated by the actions of the
    forum's status tables."""

    filterset_class = TopicFilter
    ordering_fields = ("created_at", "last_activity_at")
    ordering = ("-created_at",)
    action_permissions = {
        **{name: "change" for name in TOPIC_ACTIONS},
        "move": "change",
        "solve": "change",
    }
    conflict_actions = (*TOPIC_ACTIONS, "move", "solve")
    problem_responses = {"create": TOO_LARGE, "partial_update": TOO_LARGE}

    def get_queryset(self):
        return index.with_forum_topic_counters(
            selectors.topics(_viewer(self.request)).prefetch_related("tags")
        )

    def _answer(self, topic_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        # The caller's own write, shown even if it took the topic out of their sight.
        topic = index.with_forum_topic_counters(selectors.topics_by_ids([topic_id])).get()
        return Response(io.TopicOut(topic).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.TopicOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.TopicOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.TopicCreateIn, request)
        locales = current_locales()
        locale = data.get("locale") or locales[0]
        if locale not in locales:
            raise serializers.ValidationError(
                {"locale": [_("One of: %(locales)s.") % {"locales": ", ".join(locales)}]}
            )
        _count_against(request, POST_LIMIT)
        topic = _field_error(
            lambda: services.topic_start(
                category_id=data["category_id"],
                title=data["title"],
                body=data["body"],
                actor=request.user,
                locale=locale,
                tag_slugs=data.get("tags", ()),
                tag_names=data.get("tag_names", ()),
                subscribe=data["subscribe"],
                mentions=mentions_active(request),
            ),
            category_id=ForumCategoryNotFound,
        )
        return self._answer(topic.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = _validated(io.TopicUpdateIn, request)
        services.topic_edit(
            topic_id=topic.pk,
            actor=request.user,
            title=data.get("title"),
            body=data.get("body"),
            tag_slugs=data.get("tags"),
            tag_names=data.get("tag_names", ()),
            reason=data.get("reason", ""),
        )
        return self._answer(topic.pk)

    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        _require_moderator(request)
        data = _validated(io.TopicMoveIn, request)
        _field_error(
            lambda: services.topic_move(
                topic_id=topic.pk,
                category_id=data["category_id"],
                actor=request.user,
                reason=data.get("reason", ""),
            ),
            category_id=ForumCategoryNotFound,
        )
        return self._answer(topic.pk)

    @action(detail=True, methods=["post"])
    def solve(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = _validated(io.TopicSolveIn, request)
        _field_error(
            lambda: services.topic_mark_solved(
                topic_id=topic.pk, reply_id=data["reply_id"], actor=request.user
            ),
            reply_id=ReplyNotFound,
        )
        return self._answer(topic.pk)


def _topic_action_view(action_name: str):
    def view(self: TopicViewSet, request: Request, pk: str) -> Response:
        topic = self.get_object()
        _require_moderator(request)
        data = _validated(io.ReasonIn, request)
        services.topic_moderate(
            topic_id=topic.pk,
            action=action_name,
            actor=request.user,
            reason=data.get("reason", ""),
        )
        return self._answer(topic.pk)

    view.__name__ = action_name
    view.__doc__ = f"{TOPIC_ACTIONS[action_name].label}."
    return action(detail=True, methods=["post"], url_path=action_name, url_name=action_name)(view)


for _action in TOPIC_ACTIONS:
    assert not hasattr(TopicViewSet, _action), _action  # a table's action may not hide a method
    setattr(TopicViewSet, _action, _topic_action_view(_action))
TopicViewSet = _topic_views()(TopicViewSet)


# -- replies -----------------------------------------------------------------------------------


class ReplyFilter(filters.FilterSet):
    topic = IdFilter(field_name="topic_id", help_text="Replies to this topic.")
    status = filters.ChoiceFilter(choices=Review.choices)
    author = IdFilter(field_name="author_id", help_text="Replies written by this user.")
    flagged = filters.BooleanFilter(
        method="filter_flagged", help_text="With an open report (true) or without one (false)."
    )

    def filter_flagged(self, queryset, name: str, value: bool | None):
        return queryset if value is None else selectors.flagged(queryset, value)


def _reply_views():
    actions = {
        name: extend_schema(
            summary=f"{t.label} a reply ({' | '.join(sorted(t.sources))} -> {t.target})",
            request=io.ReasonIn,
            responses=io.ReplyOut,
        )
        for name, t in REPLY_REVIEW.by_action.items()
    }
    return extend_schema_view(
        list=extend_schema(summary="List forum replies", responses=io.ReplyOut(many=True)),
        retrieve=extend_schema(summary="Get a forum reply", responses=io.ReplyOut),
        create=extend_schema(
            summary="Reply to a topic (as the caller)",
            request=io.ReplyCreateIn,
            responses={
                201: io.ReplyOut,
                413: OpenApiResponse(ProblemSerializer, description=TOO_LARGE["413"]),
            },
        ),
        partial_update=extend_schema(
            summary="Change a reply's body", request=io.ReplyUpdateIn, responses=io.ReplyOut
        ),
        dismiss_reports=extend_schema(
            summary="Keep a reported reply as it is: close its open reports as dismissed",
            request=io.ReasonIn,
            responses=io.ReplyOut,
        ),
        flag=extend_schema(
            summary="Report a reply to the moderators (as the caller)",
            request=io.FlagIn,
            responses={201: io.FlagOut},
        ),
        **actions,
    )


class ReplyViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Replies to forum topics that the caller may see; reviewed by the actions of the forum's
    review table, reported by members."""

    filterset_class = ReplyFilter
    ordering_fields = ("created_at",)
    ordering = ("created_at",)
    action_permissions = {
        **{name: "change" for name in REPLY_REVIEW.actions},
        "dismiss_reports": "change",
        # Reporting is taking part, as posting is.
        "flag": "add",
    }
    conflict_actions = ("create", *REPLY_REVIEW.actions, "flag")
    problem_responses = {"create": TOO_LARGE, "partial_update": TOO_LARGE}

    def get_queryset(self):
        return selectors.replies_for(_viewer(self.request))

    def _answer(self, reply_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        # The caller's own write, shown even if it took the reply out of their sight.
        reply = selectors.replies_by_ids([reply_id]).get()
        return Response(io.ReplyOut(reply).data, status=status_code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.ReplyOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.ReplyOut(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = _validated(io.ReplyCreateIn, request)
        _count_against(request, POST_LIMIT)
        reply = _field_error(
            lambda: services.reply_post(
                topic_id=data["topic_id"],
                body=data["body"],
                actor=request.user,
                quoted_reply_id=data.get("quoted_reply_id"),
                mentions=mentions_active(request),
            ),
            topic_id=TopicNotFound,
        )
        return self._answer(reply.pk, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        reply = self.get_object()
        data = _validated(io.ReplyUpdateIn, request)
        services.reply_edit(
            reply_id=reply.pk,
            body=data["body"],
            actor=request.user,
            reason=data.get("reason", ""),
        )
        return self._answer(reply.pk)

    @action(detail=True, methods=["post"], url_path="dismiss-reports", url_name="dismiss-reports")
    def dismiss_reports(self, request: Request, pk: str) -> Response:
        reply = self.get_object()
        data = _validated(io.ReasonIn, request)
        services.reply_flags_dismiss(
            reply_id=reply.pk, actor=request.user, reason=data.get("reason", "")
        )
        return self._answer(reply.pk)

    @action(detail=True, methods=["post"])
    def flag(self, request: Request, pk: str) -> Response:
        reply = self.get_object()
        data = _validated(io.FlagIn, request)
        _count_against(request, FLAG_LIMIT)
        flag = services.reply_flag(
            reply_id=reply.pk, reason=data["reason"], note=data.get("note", ""), actor=request.user
        )
        flag = selectors.flags().get(pk=flag.pk)
        return Response(io.FlagOut(flag).data, status=status.HTTP_201_CREATED)


def _reply_action_view(action_name: str):
    def view(self: ReplyViewSet, request: Request, pk: str) -> Response:
        reply = self.get_object()
        data = _validated(io.ReasonIn, request)
        services.reply_moderate(
            reply_id=reply.pk,
            action=action_name,
            actor=request.user,
            reason=data.get("reason", ""),
        )
        return self._answer(reply.pk)

    view.__name__ = action_name
    view.__doc__ = f"{REPLY_REVIEW.get(action_name).label}."
    return action(detail=True, methods=["post"], url_path=action_name, url_name=action_name)(view)


for _action in REPLY_REVIEW.actions:
    assert not hasattr(ReplyViewSet, _action), _action
    setattr(ReplyViewSet, _action, _reply_action_view(_action))
ReplyViewSet = _reply_views()(ReplyViewSet)


# -- reports -----------------------------------------------------------------------------------


class FlagFilter(filters.FilterSet):
    state = filters.ChoiceFilter(
        choices=(("open", "open"), ("resolved", "resolved")),
        method="filter_state",
        help_text="Open (waiting for a moderator) or resolved.",
    )
    reply = IdFilter(field_name="reply_id", help_text="Reports of this reply.")
    reason = filters.ChoiceFilter(choices=FlagReason.choices)

    def filter_state(self, queryset, name: str, value: str):
        return queryset.filter(resolved_at__isnull=value == "open")


@extend_schema_view(
    list=extend_schema(
        summary="List reports of replies (the moderation queue's)", responses=io.FlagOut(many=True)
    ),
    retrieve=extend_schema(summary="Get a report", responses=io.FlagOut),
)
class FlagViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Members' reports of replies (read only: a reply's review actions resolve them)."""

    filterset_class = FlagFilter
    ordering_fields = ("created_at", "resolved_at")
    ordering = ("-created_at",)

    def get_queryset(self):
        return selectors.flags()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(io.FlagOut(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(io.FlagOut(self.get_object()).data)
