"""The OpenAPI description: error responses of every operation, and the API's front page."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from apps.core.problems import PROBLEM_CONTENT_TYPE
from apps.forum.models import BODY_MAX
from apps.forum.services import REPLY_REVIEW, TOPIC_ACTIONS

DESCRIPTION = """
The content of one site (tenant): nodes of every kind, posts and pages (nodes of
kind `post` and `page`), categories, tags and media.

**Posts and pages** are written at `/posts/` and `/pages/`, where the blog's and
the pages' rules apply (slugs the site itself uses are refused; posts have no
place in the page tree and may name new tags in `tag_names`; a page carries its
`layout`: `template`, `is_home` and typed `blocks` per locale). `/nodes/` reads
nodes of every kind and changes their status, but creates, changes and deletes
only nodes of other kinds.

**Authentication.** An API key, `Authorization: Bearer sk_live_…` (made in the
admin or with `manage.py api_key`; no CSRF token), or a session of a staff user
of the site (log in at `/admin/`; writes send the `X-CSRFToken` header). A key
acts as its owner narrowed by its scopes: `content:read`/`content:write`
(content, posts, pages), `commerce:read`/`commerce:write` and `forum:read`/`forum:write`
(`GET`/`HEAD` read, the rest write); `events:read` reads the event feed. A publishable key (`pk_live_…`) only reads the catalogue,
the content and the forum, and only what the public sees (active products, published content, approved topics and replies). Every endpoint needs a staff user with the Django model permission
of the operation: `view_*` to read, `add_*` to create, `change_*` to change
(publish, unpublish, archive, restore, schedule and translations change a node),
`delete_*` to delete. The Editor group has all of them for content. Anonymous
requests and keys that do not work (unknown, revoked, expired) get **401** with
`WWW-Authenticate: Bearer`; staff without the permission get 403 with code
`permission_denied`, a key without the scope 403 with code `scope_missing`.

**Lists** are paginated by cursor: `?page_size=50` (20 by default, at most 100)
answers `{"next", "previous", "results"}`, where `next` and `previous` are the
links to follow (null at either end); a page starts after (or before) the row
its cursor names, so rows written meanwhile never make a page repeat or skip a
row. A cursor is opaque and valid only with the `ordering` of the request that
gave it: a changed one is a **400**. Order with `?ordering=-published_at,position`
(the fields each list accepts are in its parameters; empty values sort last). Nodes
filter by `status`, `kind`, `category` (slug), `tag` (slug), `locale` (has a
translation in it), `parent` and `author`.

**Commerce** lives under `/commerce/`: products (with their options, variants
and prices), options, variants, prices per currency
(`PUT /commerce/variants/{id}/prices/EUR/` with `{"amount": "19.90"}`), stock
levels (`/commerce/inventory/`, changed with `adjust/` and `set/`), locations,
collections, categories and product images (`/commerce/images/`: uploaded as
`multipart/form-data` with `product`, `file` and `alt_text`, put in order with
`POST /commerce/images/reorder/`; a product shows its `images` in order). Amounts are decimal strings in and out; a JSON
number is refused. Products move between `draft`, `active` and `archived` with
`POST /commerce/products/{id}/activate/`, `archive/` and `draft/`. The Merchant
group has every commerce permission.

**Orders** (`/commerce/orders/`) are placed by the checkout and read here: filter by
`status`, `payment_status`, `placed_after`, `placed_before`, `email` and `customer`; one
order shows its `lines` and its `history` (every event of its stream: `version`, `type`,
`occurred_at`, `actor`, `payload`), and `GET /commerce/orders/{id}/as-of/?at=<ISO time>`
shows it as it was then. It moves on with `POST /commerce/orders/{id}/transitions/<action>/`
(`confirm`; `mark_paid` with `reference` and `amount`, the order's total; `ship` with
`carrier` and `tracking_number`; `deliver`; `cancel` with an optional `reason`) and is refunded
with `POST /commerce/orders/{id}/refunds/` (`amount`, `reason`). Send the `version` you saw as
`expected_version`: if the order changed since, the answer is a **409** with code
`order_version_conflict` and its `current_version`. `/commerce/customers/` lists the
storefront's accounts with their `orders_count`.

**Carts** (`/commerce/carts/`) are for headless storefronts and need no login (and no
CSRF token): `POST /commerce/carts/` with `currency` and `locale` answers the cart with its
`token`; whoever holds the token owns the cart, and an unknown token is a **404**. Add lines
with `POST /commerce/carts/{token}/lines/` (`variant`, `quantity`), change one with
`PATCH .../lines/{variant}/` (`quantity`, 0 removes) or `DELETE` it; every line shows its
`availability` (`ok`, `low`, `exceeds_stock`, `out_of_stock`, `unavailable`, `no_price`) and
the cart its `can_checkout`. The checkout (`.../checkout/`) takes `email`,
`shipping_address`, `billing_address` and `shipping_method` in one `PATCH` (checked together
before any is changed; an address error names its field, e.g.
`shipping_address.postal_code`), a voucher at `.../checkout/voucher/` (`POST` with `code`,
`DELETE`), holds the stock with `POST .../checkout/reserve/` (until `reserved_until`) and
places the order with `POST .../checkout/place/` (`provider` `manual` or `test_card` with a
`card`): **201** with the order, **402** declined, **503** with `Retry-After` when the card
service is away, **409** when the hold expired or the stock or the voucher's last use went
elsewhere. Refusals are in the cart's locale.

**Forum** lives under `/forum/`: categories (a name and description per locale in
`translations`, one level of subcategories), topics, replies and the members' reports of replies
(`/forum/flags/`, read only, `?state=open` or `resolved`). Topics and replies are written as the
caller (a key's owner): `POST /forum/topics/` with `category_id`, `title`, `body` (Markdown),
`tags` (slugs) and `locale`; `POST /forum/replies/` with `topic_id`, `body` and
`quoted_reply_id`. Authors are shown by their public name and forum `handle`. In a moderated
category a new post waits (`pending`) until a moderator approves it and only its author and the
moderators see it; a closed, archived or locked topic takes no reply (**409** with code
`topic_closed`), a body over {forum_body_max} characters is a **413**, and posting and reporting are
rate limited per user (**429** with `Retry-After`). The forum's moderators (the Moderator group)
take the actions of a topic with `POST /forum/topics/{id}/<action>/` ({forum_topic_actions}), move it
with `move/` (`category_id`) and review a reply with `POST /forum/replies/{id}/<action>/`
({forum_reply_actions}), each with an optional `reason` kept in the topic's moderation log; a
topic or reply lists the actions its state allows in `actions`. `dismiss-reports/` closes a
reply's open reports, `flag/` (`reason`, `note`) reports it, and `POST /forum/topics/{id}/solve/`
marks the reply that answers a topic (`reply_id`; null for none). Topics filter by `category`,
`status`, `review`, `tag`, `author` and `pinned` and order by `created_at` or `last_activity_at`;
replies filter by `topic`, `status`, `author` and `flagged`. A topic's `reply_count` and
`last_activity_at` are the forum listing's counters (null while the topic is not public), so a
topic's `ETag` is that of its representation rather than a version.

**Events** (`GET /events/`) are the site's events, oldest first, each with its envelope (`id`,
`type`, `version`, `occurred_at`, `aggregate_type`, `aggregate_id`, `actor`, `payload`) and its
`cursor`: poll with `?after=<next>` (the answer's `next`, the same again when nothing is new) to
read on without missing any, narrowed with `types=commerce.*,content.node.published`. A cursor
older than the retention window is a **410**. For superusers and staff with
`events.view_outboxevent`; keys need the `events:read` scope. Writes through a key name the key
as their `actor` (`kind` `api_key`, its `id`, its name as `label`, and its `owner`).

**Translations** are nested in a node, keyed by locale. Create a node with
`{"kind": "post", "translations": {"en": {"title": "Hello"}}}`; change some
fields of one locale with `PATCH {"translations": {"de": {"title": "Hallo"}}}`;
replace or delete one with `PUT`/`DELETE /nodes/{id}/translations/{locale}/`.
New nodes are drafts: publish them with `POST /nodes/{id}/publish/`.

**Deprecations.** Something deprecated keeps working until its sunset (six
months at least); its answers carry `Deprecation` (RFC 9745), `Sunset` (RFC 8594)
and `Link: <...>; rel="deprecation"`, and the schema marks it `deprecated`. Page
numbers (`?page=2`, answered with `count`; a page past the end is a 404) are
deprecated since 2026-12-07, sunset 2027-06-30: follow the cursor links instead.

**Rate limits.** Requests are counted per minute per API key (else per staff user,
else per address) and per site; every answer says where the tightest limit stands
in `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds), and
a request over it is a **429** with `Retry-After`.
**Retries.** Send `Idempotency-Key: <a new UUID>` with a POST: a retry with the same key
and body within 24 hours gets the first answer again (with `Idempotent-Replayed: true`)
instead of doing it twice; the same key with another body is a **422**, a retry while the
first still runs a **409**. Answers of 5xx are not kept: retry them with the same key.

**Concurrent changes.** One object's `GET` answers an `ETag`; send it back as
`If-None-Match` for a **304** when nothing changed, and as `If-Match` with `PUT`, `PATCH` or
`DELETE` (and an order's transitions and refunds) to change only what you read: if someone
else changed it meanwhile, the answer is a **412** and nothing changes. A site may require
`If-Match` on changes to versioned objects (nodes, products, orders, forum categories,
topics and replies): without it, **428**.

**Errors** are `application/problem+json` (RFC 9457):
`{"type", "title", "status", "detail", "code"}`. Invalid input is a **400**
with `errors`, field paths mapped to lists of messages, e.g.
`{"errors": {"translations.en.title": ["must be 1 to 255 characters"], "tags": ["unknown tag"]}}`;
unknown fields are refused the same way. An impossible status change (e.g.
archiving a draft) is a **409** with code `invalid_transition` and the node's
`current` status; something missing (or belonging to another site) is a
**404**; a write while the platform catches up on its events is a **503** with
`Retry-After`.
""".strip()
# The forum's limits and actions as its services define them.
for _marker, _text in (
    ("{forum_body_max}", str(BODY_MAX)),
    ("{forum_topic_actions}", ", ".join(f"`{name}`" for name in TOPIC_ACTIONS)),
    ("{forum_reply_actions}", ", ".join(f"`{name}`" for name in REPLY_REVIEW.actions)),
):
    DESCRIPTION = DESCRIPTION.replace(_marker, _text)


class ProblemSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable, machine-readable.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="400 only: field path -> messages.",
    )

    class Meta:
        ref_name = "Problem"


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "1 to 255 printable ASCII characters, new for each new request (a UUID). A retry "
        "with the same key and body within 24 hours gets the first answer again, with "
        "`Idempotent-Replayed: true`; the same key with another body is a 422, and a retry "
        "while the first is still running a 409."
    ),
    pattern=r"^[\x20-\x7e]{1,255}$",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of a copy you hold: 304 without a body when it is still current.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "The ETag of your last read of the resource: the change is made only if it is still "
        "current (412 otherwise, and nothing changes). Required (428 without it) where the "
        "site requires it and the resource is versioned."
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description='Strong entity tag of this representation (`"v<version>"` where versioned).',
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    enum=["true"],
    description="Present on the stored answer replayed for a retry with its Idempotency-Key.",
)


def conditional_view(view) -> bool:
    """Whether ``view`` answers ETags and honours If-Match (``apps.api.conditional``)."""
    return isinstance(view, GenericAPIView) and hasattr(view, "retrieve")


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the problem+json answers every operation can give, and
    the headers of idempotent POSTs and of conditional requests."""

    def _single_resource(self) -> bool:
        return "{" in self.path and conditional_view(self.view)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters += [IDEMPOTENCY_KEY, REPLAYED]
        if self._single_resource():
            if self.method == "GET":
                parameters += [IF_NONE_MATCH, ETAG]
            elif self.method in {"PUT", "PATCH", "DELETE"} or self._if_match_action():
                parameters.append(IF_MATCH)
        return parameters

    def _if_match_action(self) -> bool:
        """A POST action that takes If-Match too (an order's transitions and refunds)."""
        return getattr(self.view, "action", None) in getattr(self.view, "if_match_actions", ())

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = {}
        if not getattr(self.view, "public_access", False):
            errors["401"] = "Not logged in, or an API key that does not work."
            errors["403"] = "Not staff, without the permission, or a key without the scope."
        unsafe = self.method in {"POST", "PUT", "PATCH", "DELETE"}
        has_input = unsafe and (
            self.method == "DELETE" or self.get_request_serializer() is not None
        )
        if has_input or self._is_list_view():
            errors["400"] = "Invalid input; see errors."
        if "{" in self.path:
            errors["404"] = "No such object on this site."
        elif self._is_list_view():
            errors["404"] = (
                "No such page number (past the end, or not a number; deprecated page only)."
            )
        if getattr(self.view, "action", None) in getattr(self.view, "conflict_actions", ()):
            errors["409"] = "The change is not possible in the current status."
        errors["429"] = "Over a rate limit; retry after Retry-After seconds."
        if self.method == "POST":
            errors["400"] = errors.get("400", "Invalid input (or Idempotency-Key); see errors.")
            errors.setdefault("409", "A request with this Idempotency-Key is still running.")
            errors["422"] = "This Idempotency-Key was used with another body."
        if self._single_resource() and (
            self.method in {"PUT", "PATCH", "DELETE"} or self._if_match_action()
        ):
            errors["412"] = "If-Match names a version that is no longer current; nothing changed."
            errors["428"] = "This site requires If-Match on changes to this resource."
        if unsafe:
            errors["503"] = "The platform is catching up; retry after Retry-After seconds."
        if has_input and getattr(self.view, "max_body_bytes", None):
            errors["413"] = "The body is larger than this endpoint accepts."
        # Answers of one action beyond these: {"place": {"402": "Declined."}}.
        errors.update(
            getattr(self.view, "problem_responses", {}).get(getattr(self.view, "action", None), {})
        )
        for code, description in sorted(errors.items()):
            if code not in responses:
                response = self._get_response_for_code(
                    ProblemSerializer, code, [PROBLEM_CONTENT_TYPE], direction
                )
                response["description"] = description
                responses[code] = response
        if self.method == "GET" and self._single_resource():
            responses["304"] = {
                "description": "Not modified: If-None-Match names the current ETag.",
                "headers": self._get_response_headers_for_code("304"),
            }
        return responses


def describe(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: the front page of the schema and of Swagger UI."""
    result.setdefault("info", {})["description"] = DESCRIPTION
    return result


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """``apps.api.authentication.ApiKeyAuthentication`` in the schema: an HTTP bearer key."""

    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key: sk_live_... (secret) or pk_live_... (publishable).",
        }
