"""Every write to content. Each function is one transaction that ends with its events published."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy

from apps.core.errors import InvalidTransition, NotFound
from apps.core.images import IMAGE_TYPES
from apps.core.models import model_update, would_cycle
from apps.core.transitions import Transition, TransitionTable
from apps.events.publisher import publish
from apps.tenancy.services import due_work_kind, work_due

from . import events
from .errors import ContentInvalid, NodeNotFound
from .models import (
    BodyFormat,
    Category,
    Media,
    Node,
    NodeStatus,
    NodeTranslation,
    Rendition,
    Revision,
    Tag,
)
from .rendering import render_body
from .renditions import RENDITION_FORMATS, RENDITION_WIDTHS, NoRenditions, read_original, render
from .selectors import current_locales
from .validation import validate_image, validate_metadata

# How a refusal names a status: "This content is a draft: only published content can be ..."
STATUS_AS_STATE = {
    NodeStatus.DRAFT: gettext_lazy("a draft"),
    NodeStatus.PUBLISHED: gettext_lazy("published"),
    NodeStatus.ARCHIVED: gettext_lazy("archived"),
}
STATUS_AS_ADJECTIVE = {
    NodeStatus.DRAFT: gettext_lazy("draft"),
    NodeStatus.PUBLISHED: gettext_lazy("published"),
    NodeStatus.ARCHIVED: gettext_lazy("archived"),
}


def _unknown_action(status: str, action: str) -> str:
    return f"no action '{action}'"


def _refusal(status: str, transition: Transition) -> str:
    """Why a node in ``status`` cannot take ``transition``, in an editor's words."""
    (source,) = transition.sources
    message = (
        gettext("This content is %(state)s already: only %(source)s content can be %(past)s.")
        if status == transition.target
        else gettext("This content is %(state)s: only %(source)s content can be %(past)s.")
    )
    return message % {
        "state": STATUS_AS_STATE.get(status, status),
        "source": STATUS_AS_ADJECTIVE.get(source, source),
        "past": transition.past,
    }


# draft -> published -> archived -> draft; published -> draft (unpublish).
NODE_TRANSITIONS: TransitionTable[type[events.DomainEvent]] = TransitionTable(
    [
        Transition("publish", frozenset({NodeStatus.DRAFT}), NodeStatus.PUBLISHED,
                   events.NodePublished, gettext_lazy("Publish"), gettext_lazy("published")),
        Transition("unpublish", frozenset({NodeStatus.PUBLISHED}), NodeStatus.DRAFT,
                   events.NodeUnpublished, gettext_lazy("Unpublish"), gettext_lazy("unpublished")),
        Transition("archive", frozenset({NodeStatus.PUBLISHED}), NodeStatus.ARCHIVED,
                   events.NodeArchived, gettext_lazy("Archive"), gettext_lazy("archived")),
        Transition("restore", frozenset({NodeStatus.ARCHIVED}), NodeStatus.DRAFT,
                   events.NodeRestored, gettext_lazy("Restore from archive"),
                   gettext_lazy("restored")),
    ],
    refusal=_refusal,
    unknown=_unknown_action,
)  # fmt: skip
KIND_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass
class TranslationInput:
    locale: str
    title: str
    slug: str = ""
    excerpt: str = ""
    body: str = ""
    body_format: str = BodyFormat.MARKDOWN
    meta_title: str = ""
    meta_description: str = ""


@dataclass
class NodeInput:
    kind: str
    translations: list[TranslationInput]
    parent_id: UUID | None = None
    position: int = 0
    category_id: int | None = None
    tag_ids: list[int] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    publish_at: datetime | None = None
    canonical_url: str = ""
    og_image_id: UUID | None = None


# Rules a wrapper module adds to content's (the blog's reserved slugs, a page's parent): called
# under the node's lock with the node as it is about to be saved and every translation it will
# have; they raise a ``ValidationFailed`` to refuse the write.
NodeRules = Callable[[Node, list[TranslationInput]], None]
TRANSLATION_FIELDS = tuple(f.name for f in dataclass_fields(TranslationInput) if f.name != "locale")


# -- helpers ---------------------------------------------------------------------


def _locked(node_id: UUID, *, kind: str | None = None) -> Node:
    """The node, its row locked; ``NodeNotFound`` when there is none (of ``kind``)."""
    try:
        node = Node.objects.select_for_update().get(pk=node_id)
    except (Node.DoesNotExist, DjangoValidationError, ValueError):
        raise NodeNotFound(f"no content {node_id}") from None
    if kind is not None and node.kind != kind:
        raise NodeNotFound(f"no {kind} {node_id}")
    return node


def _clean_translation(data: TranslationInput, *, locales: list[str]) -> TranslationInput:
    errors = {}
    if data.locale not in locales:
        errors["locale"] = gettext("'%(locale)s' is not enabled for this site (%(enabled)s)") % {
            "locale": data.locale,
            "enabled": ", ".join(locales),
        }
    title = (data.title or "").strip()
    if not title or len(title) > 255:
        errors["title"] = gettext("must be 1 to 255 characters")
    slug = slugify(data.slug or title)[:255]
    if not slug:
        errors["slug"] = gettext("cannot be empty (give a title with letters or digits)")
    if data.body_format not in BodyFormat.values:
        errors["body_format"] = gettext("must be one of %(choices)s") % {
            "choices": BodyFormat.values
        }
    if len(data.meta_description or "") > 320:
        errors["meta_description"] = gettext("at most 320 characters")
    if errors:
        raise ContentInvalid(
            {
                f"translations.{data.locale}.{k}" if k != "locale" else "locale": v
                for k, v in errors.items()
            }
        )
    return TranslationInput(
        locale=data.locale, title=title, slug=slug, excerpt=(data.excerpt or "").strip(),
        body=data.body or "", body_format=data.body_format, meta_title=(data.meta_title or "").strip(),
        meta_description=(data.meta_description or "").strip(),
    )  # fmt: skip


def _write_translation(node: Node, data: TranslationInput) -> tuple[NodeTranslation, bool]:
    """Insert or update one translation; returns it and whether anything changed."""
    values = {
        "kind": node.kind, "title": data.title, "slug": data.slug, "excerpt": data.excerpt,
        "body": data.body, "body_format": data.body_format,
        "body_html": render_body(data.body, data.body_format),
        "meta_title": data.meta_title, "meta_description": data.meta_description,
    }  # fmt: skip
    clash = NodeTranslation.objects.filter(
        locale=data.locale, kind=node.kind, slug=data.slug
    ).exclude(node=node)
    taken = ContentInvalid(
        {
            f"translations.{data.locale}.slug": f"'{data.slug}' is already used by another {node.kind}"
        }
    )
    if clash.exists():
        raise taken
    existing = NodeTranslation.objects.filter(node=node, locale=data.locale).first()
    try:
        # A savepoint: losing the race for a slug is a validation error, not a broken transaction.
        with transaction.atomic():
            if existing is None:
                return NodeTranslation.objects.create(node=node, locale=data.locale, **values), True
            changed = model_update(instance=existing, fields=values, data=values)
    except IntegrityError:
        raise taken from None
    return existing, bool(changed)


def _check_parent(node: Node | None, parent_id: UUID | None) -> Node | None:
    if parent_id is None:
        return None
    parent = Node.objects.filter(pk=parent_id).first()
    if parent is None:
        raise ContentInvalid({"parent": gettext("no such content")})
    if would_cycle(node, parent):
        raise ContentInvalid({"parent": gettext("a node cannot be its own ancestor")})
    return parent


def _check_refs(data_category: int | None, tag_ids: list[int], og_image_id: UUID | None) -> None:
    errors = {}
    if data_category is not None and not Category.objects.filter(pk=data_category).exists():
        errors["category"] = gettext("no such category")
    if tag_ids and Tag.objects.filter(pk__in=tag_ids).count() != len(set(tag_ids)):
        errors["tags"] = gettext("unknown tag")
    if og_image_id is not None and not Media.objects.filter(pk=og_image_id).exists():
        errors["og_image"] = gettext("no such media")
    if errors:
        raise ContentInvalid(errors)


def snapshot(node: Node) -> dict[str, Any]:
    """Everything a revision restores, as JSON."""
    return {
        "kind": node.kind,
        "parent_id": str(node.parent_id) if node.parent_id else None,
        "position": node.position,
        "category_id": node.category_id,
        "tag_ids": sorted(node.tags.values_list("pk", flat=True)),
        "metadata": node.metadata,
        "publish_at": node.publish_at.isoformat() if node.publish_at else None,
        "canonical_url": node.canonical_url,
        "og_image_id": str(node.og_image_id) if node.og_image_id else None,
        "translations": {
            t.locale: {
                "title": t.title,
                "slug": t.slug,
                "excerpt": t.excerpt,
                "body": t.body,
                "body_format": t.body_format,
                "meta_title": t.meta_title,
                "meta_description": t.meta_description,
            }
            for t in node.translations.all()
        },
    }


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    if before is None:
        return ["created"]
    changed = [name for name in after if name != "translations" and before.get(name) != after[name]]
    for locale in sorted(set(before["translations"]) | set(after["translations"])):
        old, new = before["translations"].get(locale), after["translations"].get(locale)
        if old != new:
            if old is None or new is None:
                changed.append(f"translations.{locale}")
            else:
                changed += [
                    f"translations.{locale}.{name}" for name in new if old.get(name) != new[name]
                ]
    return changed


def _revise(node: Node, *, actor, message: str, before: dict[str, Any] | None) -> Revision | None:
    after = snapshot(node)
    changed = _diff(before, after)
    if not changed:
        return None
    number = (node.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    return Revision.objects.create(
        node=node, number=number, author=actor if getattr(actor, "pk", None) else None,
        message=message[:255], changed=changed, snapshot=after,
    )  # fmt: skip


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# -- nodes -------------------------------------------------------------------------

# The beat job that publishes scheduled drafts, and its mark in the due-work index.
PUBLISH_DUE = due_work_kind("content.publish_due")


def _mark_scheduled(node: Node) -> None:
    """A draft with a publication time is due work for ``PUBLISH_DUE`` (in the caller's
    transaction, so the mark commits or rolls back with the schedule)."""
    if node.status == NodeStatus.DRAFT and node.publish_at is not None:
        work_due(kind=PUBLISH_DUE, at=node.publish_at)


def node_create(*, data: NodeInput, rules: NodeRules | None = None, actor=None) -> Node:
    """A new draft node with its translations; ``rules`` are the wrapper module's, if any."""
    if not KIND_RE.fullmatch(data.kind or ""):
        raise ContentInvalid(
            {"kind": gettext("lowercase letters, digits, '-' or '_', up to 32 characters")}
        )
    if not data.translations:
        raise ContentInvalid({"translations": gettext("at least one translation is required")})
    locales = current_locales()
    translations = [_clean_translation(t, locales=locales) for t in data.translations]
    metadata = validate_metadata(data.metadata)
    _check_refs(data.category_id, data.tag_ids, data.og_image_id)
    with transaction.atomic():
        parent = _check_parent(None, data.parent_id)
        node = Node.objects.create(
            kind=data.kind, parent=parent, position=data.position, author=_user(actor),
            category_id=data.category_id, metadata=metadata, publish_at=data.publish_at,
            canonical_url=data.canonical_url, og_image_id=data.og_image_id,
        )  # fmt: skip
        if rules is not None:
            rules(node, translations)
        node.tags.set(data.tag_ids)
        for translation in translations:
            _write_translation(node, translation)
        _mark_scheduled(node)
        _revise(node, actor=_user(actor), message="Created", before=None)
        publish(
            events.NodeCreated(node_id=node.pk, kind=node.kind, version=node.version), actor=actor
        )
        for translation in translations:
            publish(
                events.TranslationUpdated(
                    node_id=node.pk, kind=node.kind, version=node.version, locale=translation.locale,
                    slug=translation.slug,
                ),
                actor=actor,
            )  # fmt: skip
    return node


UPDATABLE = {
    "parent_id",
    "position",
    "category_id",
    "tag_ids",
    "metadata",
    "publish_at",
    "canonical_url",
    "og_image_id",
}


def _clean_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Node fields to change, checked before any lock is taken."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ContentInvalid({name: gettext("cannot be changed here") for name in sorted(unknown)})
    changes = dict(changes)
    if "metadata" in changes:
        changes["metadata"] = validate_metadata(changes["metadata"])
    _check_refs(
        changes.get("category_id"), changes.get("tag_ids") or [], changes.get("og_image_id")
    )
    return changes


def _check_schedule(node: Node, publish_at: datetime | None) -> None:
    """Only a draft is scheduled, and only for later (checked under the node's lock)."""
    if node.status != NodeStatus.DRAFT:
        raise InvalidTransition(
            f"only drafts can be scheduled; this one is {node.status}", current=node.status
        )
    if publish_at is not None and publish_at <= timezone.now():
        raise ContentInvalid({"publish_at": gettext("must be in the future (or empty to cancel)")})


def _stored_input(row: NodeTranslation) -> TranslationInput:
    return TranslationInput(
        locale=row.locale, **{name: getattr(row, name) for name in TRANSLATION_FIELDS}
    )


def node_patch(
    *,
    node_id: UUID,
    fields: Mapping[str, Any] | None = None,
    translations: Mapping[str, Mapping[str, Any]] | None = None,
    delete_locales: Iterable[str] = (),
    kind: str | None = None,
    rules: NodeRules | None = None,
    actor=None,
    message: str = "",
) -> Node:
    """Change a node, its schedule and its translations at once: one transaction, one revision.

    :param fields: node fields to change (any of ``UPDATABLE``); a changed ``publish_at``
        schedules (or unschedules) the draft, refused for a node that is not a draft.
    :param translations: per locale, the translation fields to replace; the others keep their
        stored value (a new locale needs a title).
    :param delete_locales: translations to delete (not the last one).
    :param kind: refuse (``NodeNotFound``) a node of another kind.
    :param rules: the wrapper module's checks, run under the lock before anything is written.

    The node's row is locked once, before any check that reads its state; a change that changes
    nothing publishes nothing.
    """
    changes = _clean_fields(fields or {})
    given = dict(translations or {})
    delete_locales = [locale for locale in delete_locales if locale not in given]
    locales = current_locales()
    with transaction.atomic():
        node = _locked(node_id, kind=kind)
        before = snapshot(node)
        steps: list[str] = []
        if "publish_at" in changes and changes["publish_at"] != node.publish_at:
            _check_schedule(node, changes["publish_at"])
            steps.append("Scheduled" if changes["publish_at"] else "Unscheduled")
        if "parent_id" in changes:
            _check_parent(node, changes["parent_id"])
        tag_ids = changes.pop("tag_ids", None)
        if set(changes) - {"publish_at"}:
            steps.append("Updated")
        model_update(instance=node, fields=changes, data=changes, save=False)

        stored = {row.locale: row for row in node.translations.all()}
        final = {locale: _stored_input(row) for locale, row in stored.items()}
        written = []
        for locale, values in given.items():
            merged = {**vars(final[locale])} if locale in final else {"title": ""}
            merged.update(values, locale=locale)
            final[locale] = _clean_translation(TranslationInput(**merged), locales=locales)
            written.append(final[locale])
        for locale in delete_locales:
            if len(final) <= 1:
                raise ContentInvalid(
                    {"locale": gettext("the last translation of a node cannot be deleted")}
                )
            if locale not in stored:
                raise ContentInvalid(
                    {"locale": gettext("no '%(locale)s' translation") % {"locale": locale}}
                )
            del final[locale]
        if rules is not None:
            rules(node, list(final.values()))

        if changes:
            node.save()
        if "publish_at" in changes:
            _mark_scheduled(node)
        if tag_ids is not None:
            node.tags.set(tag_ids)
        changed_locales = [t for t in written if _write_translation(node, t)[1]]
        if delete_locales:
            node.translations.filter(locale__in=delete_locales).delete()
        steps += [f"Translation {t.locale}" for t in changed_locales]
        steps += [f"Removed translation {locale}" for locale in delete_locales]
        version = node.version
        default = steps[0] if len(steps) == 1 else "Updated"
        _after_change(node, actor=actor, before=before, message=message or default)
        if node.version == version:
            return node  # nothing changed: nothing to announce
        for translation in changed_locales:
            publish(
                events.TranslationUpdated(
                    node_id=node.pk, kind=node.kind, version=node.version,
                    locale=translation.locale, slug=translation.slug,
                ),
                actor=actor,
            )  # fmt: skip
        for locale in delete_locales:
            publish(
                events.TranslationDeleted(
                    node_id=node.pk, kind=node.kind, version=node.version, locale=locale
                ),
                actor=actor,
            )
    return node


def node_update(*, node_id: UUID, actor=None, message: str = "", **changes: Any) -> Node:
    """Change node fields (any of ``UPDATABLE``); a no-op change publishes nothing."""
    return node_patch(node_id=node_id, fields=changes, actor=actor, message=message)


def _after_change(node: Node, *, actor, before: dict[str, Any], message: str) -> Node:
    revision = _revise(node, actor=_user(actor), message=message, before=before)
    if revision is None:
        return node
    node.version += 1
    node.save(update_fields=["version", "updated_at"])
    publish(
        events.NodeUpdated(
            node_id=node.pk, kind=node.kind, version=node.version, changed=revision.changed[:50]
        ),
        actor=actor,
    )
    return node


def translation_upsert(*, node_id: UUID, data: TranslationInput, actor=None) -> NodeTranslation:
    """Create or replace the translation in ``data.locale``."""
    values = {name: getattr(data, name) for name in TRANSLATION_FIELDS}
    node = node_patch(node_id=node_id, translations={data.locale: values}, actor=actor)
    return node.translations.get(locale=data.locale)


def translation_delete(*, node_id: UUID, locale: str, actor=None) -> None:
    node_patch(node_id=node_id, delete_locales=[locale], actor=actor)


def node_transition(
    *,
    node_id: UUID,
    action: str,
    kind: str | None = None,
    actor=None,
    now: datetime | None = None,
) -> Node:
    """Take the node through ``action`` of ``NODE_TRANSITIONS`` (kind and status checked under the lock)."""
    with transaction.atomic():
        node = _locked(node_id, kind=kind)
        transition = NODE_TRANSITIONS.check(node.status, action)
        previous, node.status = node.status, transition.target
        if transition.target == NodeStatus.PUBLISHED:
            node.published_at = node.published_at or now or timezone.now()
            node.publish_at = None
        node.version += 1
        node.save(update_fields=["status", "published_at", "publish_at", "version", "updated_at"])
        _mark_scheduled(node)  # a restored draft keeps its publication time
        publish(
            transition.event(
                node_id=node.pk,
                kind=node.kind,
                version=node.version,
                from_status=previous,
                to_status=transition.target,
            ),
            actor=actor,
        )
    return node


def node_publish(*, node_id: UUID, actor=None) -> Node:
    return node_transition(node_id=node_id, action="publish", actor=actor)


def node_unpublish(*, node_id: UUID, actor=None) -> Node:
    return node_transition(node_id=node_id, action="unpublish", actor=actor)


def node_archive(*, node_id: UUID, actor=None) -> Node:
    return node_transition(node_id=node_id, action="archive", actor=actor)


def node_restore(*, node_id: UUID, actor=None) -> Node:
    """An archived node back to draft."""
    return node_transition(node_id=node_id, action="restore", actor=actor)


def node_schedule(
    *, node_id: UUID, publish_at: datetime | None, kind: str | None = None, actor=None
) -> Node:
    """Schedule a draft's publication (``None`` cancels it): checked and written under one lock."""
    with transaction.atomic():
        _check_schedule(_locked(node_id, kind=kind), publish_at)
        return node_patch(
            node_id=node_id,
            fields={"publish_at": publish_at},
            kind=kind,
            actor=actor,
            message="Scheduled" if publish_at else "Unscheduled",
        )


def nodes_publish_due(*, now: datetime | None = None) -> int:
    """Publish every draft whose scheduled time has come (beat runs this every minute)."""
    now = now or timezone.now()
    due = list(
        Node.objects.filter(status=NodeStatus.DRAFT, publish_at__lte=now)
        .order_by("publish_at")
        .values_list("pk", flat=True)
    )
    published = 0
    for node_id in due:
        try:
            node_transition(node_id=node_id, action="publish", now=now)
            published += 1
        except InvalidTransition:
            continue  # changed meanwhile
    return published


def node_delete(
    *,
    node_id: UUID,
    kind: str | None = None,
    before_delete: Callable[[Node], None] | None = None,
    actor=None,
) -> None:
    """Delete a node without children; ``before_delete`` lets a wrapper retire what it owns
    (under the node's lock, in the same transaction)."""
    with transaction.atomic():
        node = _locked(node_id, kind=kind)
        if node.children.exists():
            raise ContentInvalid({"children": gettext("move or delete the children first")})
        if before_delete is not None:
            before_delete(node)
        event = events.NodeDeleted(node_id=node.pk, kind=node.kind, version=node.version + 1)
        node.delete()
        publish(event, actor=actor)


def revision_restore(*, node_id: UUID, number: int, actor=None) -> Node:
    """Bring a node's fields and translations back to revision ``number``, as a new revision."""
    with transaction.atomic():
        node = _locked(node_id)
        revision = node.revisions.filter(number=number).first()
        if revision is None:
            raise ContentInvalid(
                {"revision": gettext("no revision %(number)s") % {"number": number}}
            )
        before = snapshot(node)
        state = revision.snapshot
        node.parent_id = (
            state["parent_id"]
            if state["parent_id"] and Node.objects.filter(pk=state["parent_id"]).exists()
            else None
        )
        node.position = state["position"]
        node.category_id = (
            state["category_id"]
            if Category.objects.filter(pk=state["category_id"] or 0).exists()
            else None
        )
        node.metadata = state["metadata"]
        node.publish_at = (
            datetime.fromisoformat(state["publish_at"]) if state["publish_at"] else None
        )
        node.canonical_url = state["canonical_url"]
        node.og_image_id = (
            state["og_image_id"]
            if state["og_image_id"] and Media.objects.filter(pk=state["og_image_id"]).exists()
            else None
        )
        node.save()
        _mark_scheduled(node)
        node.tags.set(Tag.objects.filter(pk__in=state["tag_ids"]))
        node.translations.exclude(locale__in=list(state["translations"])).delete()
        for locale, values in state["translations"].items():
            _write_translation(node, TranslationInput(locale=locale, **values))
        version_before = node.version
        restored = _after_change(
            node, actor=actor, before=before, message=f"Restored revision {number}"
        )
        if restored.version == version_before:
            return restored  # the node already was in that state: nothing to announce
        for locale, values in state["translations"].items():
            if before["translations"].get(locale) == values:
                continue
            publish(
                events.TranslationUpdated(
                    node_id=node.pk,
                    kind=node.kind,
                    version=restored.version,
                    locale=locale,
                    slug=values["slug"],
                ),
                actor=actor,
            )
    return restored


# -- categories, tags, media ------------------------------------------------------

CATEGORY_NAME_MAX = 120
TAG_NAME_MAX = 80
TRANSLATED_DESCRIPTION_MAX = 5000
# What a locale may override, and how long each text may be.
CATEGORY_TRANSLATION_FIELDS = {"name": CATEGORY_NAME_MAX, "description": TRANSLATED_DESCRIPTION_MAX}
TAG_TRANSLATION_FIELDS = {"name": TAG_NAME_MAX}
# Per locale, the texts that replace the default locale's: {"de": {"name": "Neuigkeiten"}}.
NameTranslations = Mapping[str, Mapping[str, Any]]


def _clean_name_slug(name: str, slug: str, *, max_length: int) -> tuple[str, str]:
    name = (name or "").strip()
    slug = slugify(slug or name)[:max_length]
    errors = {}
    if not name or len(name) > max_length:
        errors["name"] = gettext("must be 1 to %(max)s characters") % {"max": max_length}
    if not slug:
        errors["slug"] = gettext("cannot be empty")
    if errors:
        raise ContentInvalid(errors)
    return name, slug


def _clean_name_translations(
    translations: Any, *, fields: Mapping[str, int]
) -> dict[str, dict[str, str]]:
    """Per-locale names (and descriptions) of a category or tag, checked.

    Only enabled locales other than the default one (whose name is the entity's own
    ``name``); each with a non-empty name, every text trimmed, bounded and NUL-free.
    Errors are keyed ``translations.<locale>.<field>``, like a node's translations.
    """
    if not isinstance(translations, Mapping):
        raise ContentInvalid({"translations": gettext("must be an object keyed by locale")})
    locales = current_locales()
    default = locales[0]
    errors: dict[str, str] = {}
    cleaned: dict[str, dict[str, str]] = {}
    for locale, values in translations.items():
        key = f"translations.{str(locale)[:16]}"
        if locale not in locales:
            errors[key] = gettext("'%(locale)s' is not enabled for this site (%(enabled)s)") % {
                "locale": str(locale)[:16],
                "enabled": ", ".join(locales),
            }
            continue
        if locale == default:
            errors[key] = gettext("'%(locale)s' is the default locale: change the name itself") % {
                "locale": locale
            }
            continue
        if not isinstance(values, Mapping):
            errors[key] = gettext("must be an object with %(fields)s") % {
                "fields": " and ".join(fields)
            }
            continue
        for unknown in sorted(str(name)[:32] for name in values if name not in fields):
            errors[f"{key}.{unknown}"] = gettext("unknown field")
        entry: dict[str, str] = {}
        for name, limit in fields.items():
            value = values.get(name) or ""
            if not isinstance(value, str):
                errors[f"{key}.{name}"] = gettext("must be text")
                continue
            value = value.strip()
            if "\x00" in value:
                errors[f"{key}.{name}"] = gettext("must not contain NUL characters")
            elif len(value) > limit:
                errors[f"{key}.{name}"] = gettext("at most %(limit)d characters") % {"limit": limit}
            elif value:
                entry[name] = value
        if "name" not in entry:
            errors.setdefault(
                f"{key}.name",
                gettext("must be 1 to %(limit)d characters") % {"limit": fields["name"]},
            )
        cleaned[locale] = entry
    if errors:
        raise ContentInvalid(errors)
    return dict(sorted(cleaned.items()))


def _taxonomy_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, fields: Mapping[str, int]
) -> list[str]:
    """What an update changed: plain field names, then ``translations.<locale>.<field>``."""
    changed = [name for name in after if name != "translations" and before[name] != after[name]]
    old, new = before["translations"] or {}, after["translations"] or {}
    for locale in sorted(set(old) | set(new)):
        changed += [
            f"translations.{locale}.{name}"
            for name in fields
            if old.get(locale, {}).get(name) != new.get(locale, {}).get(name)
        ]
    return changed


def category_create(
    *,
    name: str,
    slug: str = "",
    parent_id: int | None = None,
    description: str = "",
    translations: NameTranslations | None = None,
    actor=None,
) -> Category:
    """A new category; ``translations`` are its names (and descriptions) in other locales."""
    name, slug = _clean_name_slug(name, slug, max_length=CATEGORY_NAME_MAX)
    names = _clean_name_translations(translations or {}, fields=CATEGORY_TRANSLATION_FIELDS)
    if parent_id is not None and not Category.objects.filter(pk=parent_id).exists():
        raise ContentInvalid({"parent": gettext("no such category")})
    try:
        with transaction.atomic():
            category = Category.objects.create(
                name=name, slug=slug, parent_id=parent_id, description=description,
                translations=names,
            )  # fmt: skip
            publish(
                events.CategoryCreated(category_id=category.pk, slug=slug, locales=list(names)),
                actor=actor,
            )
    except IntegrityError:
        raise ContentInvalid({"slug": gettext("'%(slug)s' is taken") % {"slug": slug}}) from None
    return category


def _category_state(category: Category) -> dict[str, Any]:
    return {
        "name": category.name,
        "slug": category.slug,
        "parent": category.parent_id,
        "position": category.position,
        "description": category.description,
        "translations": category.translations,
    }


def category_update(
    *,
    category_id: int,
    name: str | None = None,
    slug: str | None = None,
    parent_id: int | None = None,
    to_top_level: bool = False,
    position: int | None = None,
    description: str | None = None,
    translations: NameTranslations | None = None,
    actor=None,
) -> Category:
    """Change a category; ``parent_id`` moves it under another, ``to_top_level`` to the top.

    :param translations: the names (and descriptions) in the other locales, replacing
        the ones it has (``None`` keeps them).
    A change that changes nothing publishes nothing.
    """
    names = (
        None
        if translations is None
        else _clean_name_translations(translations, fields=CATEGORY_TRANSLATION_FIELDS)
    )
    with transaction.atomic():
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"no category {category_id}")
        before = _category_state(category)
        new_name, new_slug = _clean_name_slug(
            name if name is not None else category.name,
            slug if slug is not None else category.slug,
            max_length=CATEGORY_NAME_MAX,
        )
        if parent_id is not None:
            parent = Category.objects.filter(pk=parent_id).first()
            if parent is None:
                raise ContentInvalid({"parent": gettext("no such category")})
            if would_cycle(category, parent):
                raise ContentInvalid({"parent": gettext("a category cannot be its own ancestor")})
            category.parent_id = parent_id
        elif to_top_level:
            category.parent_id = None
        if position is not None:
            if position < 0:
                raise ContentInvalid({"position": gettext("must be zero or more")})
            category.position = position
        category.name, category.slug = new_name, new_slug
        if description is not None:
            category.description = description
        if names is not None:
            category.translations = names
        changed = _taxonomy_changes(
            before, _category_state(category), fields=CATEGORY_TRANSLATION_FIELDS
        )
        if not changed:
            return category
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError:
            raise ContentInvalid(
                {"slug": gettext("'%(slug)s' is taken") % {"slug": new_slug}}
            ) from None
        publish(
            events.CategoryUpdated(
                category_id=category.pk, slug=category.slug, changed=changed,
                locales=list(category.translations),
            ),
            actor=actor,
        )  # fmt: skip
    return category


def category_delete(*, category_id: int, actor=None) -> None:
    with transaction.atomic():
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"no category {category_id}")
        if category.children.exists():
            raise ContentInvalid({"children": gettext("delete or move the subcategories first")})
        event = events.CategoryDeleted(category_id=category.pk, slug=category.slug)
        category.delete()
        publish(event, actor=actor)


def tag_get_or_create(
    *, name: str, slug: str = "", translations: NameTranslations | None = None, actor=None
) -> Tag:
    """The tag with this slug (made from ``name`` when empty), created when there is none.

    ``translations`` (its names in other locales) are checked always and written only
    when the tag is created: an existing tag is returned as it is.
    """
    name, slug = _clean_name_slug(name, slug, max_length=TAG_NAME_MAX)
    names = _clean_name_translations(translations or {}, fields=TAG_TRANSLATION_FIELDS)
    with transaction.atomic():
        tag = Tag.objects.filter(slug=slug).first()
        if tag is None:
            tag = Tag.objects.create(name=name, slug=slug, translations=names)
            publish(events.TagCreated(tag_id=tag.pk, slug=slug, locales=list(names)), actor=actor)
    return tag


def tag_update(
    *,
    tag_id: int,
    name: str | None = None,
    slug: str | None = None,
    translations: NameTranslations | None = None,
    actor=None,
) -> Tag:
    """Rename a tag or change its names in other locales.

    :param name: the new name (``None`` keeps it).
    :param slug: the new slug; empty makes it from the name, ``None`` does too when a
        name is given (a rename) and keeps the slug otherwise.
    :param translations: the names in the other locales, replacing the ones it has
        (``None`` keeps them).
    A change that changes nothing publishes nothing.
    """
    names = (
        None
        if translations is None
        else _clean_name_translations(translations, fields=TAG_TRANSLATION_FIELDS)
    )
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise NotFound(f"no tag {tag_id}")
        if slug is None and name is None:
            slug = tag.slug
        new_name, new_slug = _clean_name_slug(
            name if name is not None else tag.name, slug or "", max_length=TAG_NAME_MAX
        )
        if Tag.objects.filter(slug=new_slug).exclude(pk=tag_id).exists():
            raise ContentInvalid({"slug": gettext("'%(slug)s' is taken") % {"slug": new_slug}})
        before = {"name": tag.name, "slug": tag.slug, "translations": tag.translations}
        tag.name, tag.slug = new_name, new_slug
        if names is not None:
            tag.translations = names
        after = {"name": tag.name, "slug": tag.slug, "translations": tag.translations}
        changed = _taxonomy_changes(before, after, fields=TAG_TRANSLATION_FIELDS)
        if not changed:
            return tag
        tag.save(update_fields=["name", "slug", "translations"])
        publish(
            events.TagUpdated(
                tag_id=tag.pk, slug=new_slug, changed=changed, locales=list(tag.translations)
            ),
            actor=actor,
        )
    return tag


def tag_delete(*, tag_id: int, actor=None) -> None:
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise NotFound(f"no tag {tag_id}")
        event = events.TagDeleted(tag_id=tag.pk, slug=tag.slug)
        tag.delete()
        publish(event, actor=actor)


def media_upload(
    *, file: UploadedFile, alt_text: dict[str, str] | None = None, actor=None
) -> Media:
    content_type = validate_image(file)
    alt = {locale: (text or "").strip()[:300] for locale, text in (alt_text or {}).items()}
    bad = [locale for locale in alt if locale not in current_locales()]
    if bad:
        raise ContentInvalid(
            {"alt_text": gettext("locales not enabled: %(locales)s") % {"locales": ", ".join(bad)}}
        )
    with transaction.atomic():
        media = Media(
            content_type=content_type, size=file.size, alt_text=alt, uploaded_by=_user(actor)
        )
        media.file.save(file.name, file, save=False)
        media.save()
        publish(
            events.MediaUploaded(media_id=media.pk, content_type=content_type, size=media.size),
            actor=actor,
        )
    return media


def media_update_alt(*, media_id: UUID, alt_text: dict[str, str], actor=None) -> Media:
    with transaction.atomic():
        media = Media.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            raise NotFound(f"no media {media_id}")
        bad = [locale for locale in alt_text if locale not in current_locales()]
        if bad:
            raise ContentInvalid(
                {
                    "alt_text": gettext("locales not enabled: %(locales)s")
                    % {"locales": ", ".join(bad)}
                }
            )
        media.alt_text = {locale: (text or "").strip()[:300] for locale, text in alt_text.items()}
        media.save(update_fields=["alt_text"])
        publish(events.MediaUpdated(media_id=media.pk), actor=actor)
    return media


def media_delete(*, media_id: UUID, actor=None) -> None:
    """Delete a media and, once that commits, its file and its renditions' files."""
    with transaction.atomic():
        media = Media.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            raise NotFound(f"no media {media_id}")
        storage = media.file.storage
        # Every name a rendition of it may have: also those of an attempt that rolled back.
        names = {media.file.name, *media.renditions.values_list("file", flat=True)}
        names.update(rendition_name(media, width) for width in RENDITION_WIDTHS)
        media.delete()
        publish(events.MediaDeleted(media_id=media_id), actor=actor)
        transaction.on_commit(lambda: _delete_files(storage, names))


def _delete_files(storage, names: set[str]) -> None:
    for name in sorted(name for name in names if name):
        storage.delete(name)


# -- renditions --------------------------------------------------------------------


def rendition_name(media: Media, width: int) -> str:
    """Where the rendition of ``media`` at ``width`` is stored: always the same name, so that
    making it again replaces the file instead of leaving a copy behind."""
    stem = slugify(posixpath.splitext(posixpath.basename(media.file.name or ""))[0])[:40]
    image_format = next(
        (name for name, mime in IMAGE_TYPES.items() if mime == media.content_type), ""
    )
    extension = RENDITION_FORMATS.get(image_format, "img")
    return f"renditions/{media.pk.hex[:2]}/{stem or 'image'}-{media.pk.hex}-{width}w.{extension}"


@dataclass(frozen=True)
class RenditionsOutcome:
    """What ``media_renditions_make`` did for one media."""

    made: tuple[int, ...] = ()  # widths made now
    kept: tuple[int, ...] = ()  # widths that were there already
    skipped: str = ""  # why the image gets none ("" when it does)


def media_renditions_make(*, media_id: UUID | str) -> RenditionsOutcome:
    """Make the renditions ``media`` lacks (none for a deleted media) and announce them.

    Idempotent: what exists stays, so a redelivered event or a second run of
    ``make_renditions`` makes nothing. The media's row stays locked meanwhile,
    so that two workers never make the same file and a deletion waits.
    """
    with transaction.atomic():
        media = Media.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            return RenditionsOutcome(skipped="deleted")
        storage = media.file.storage
        try:
            with storage.open(media.file.name, "rb") as file:
                original = read_original(file)
                existing = set(media.renditions.values_list("width", flat=True))
                kept = tuple(w for w in original.wanted_widths() if w in existing)
                missing = [w for w in original.wanted_widths() if w not in existing]
                made = []
                for rendition in render(file, missing):
                    name = rendition_name(media, rendition.width)
                    storage.delete(name)  # the leftover of an attempt that rolled back
                    stored = storage.save(name, ContentFile(rendition.data))
                    made.append(
                        Rendition(
                            media=media, width=rendition.width, height=rendition.height,
                            file=stored, size=len(rendition.data),
                        )
                    )  # fmt: skip
        except FileNotFoundError:
            return RenditionsOutcome(skipped="the file is missing")
        except NoRenditions as refused:
            return RenditionsOutcome(skipped=refused.reason)
        if not made:
            return RenditionsOutcome(kept=kept)
        Rendition.objects.bulk_create(made)
        widths = sorted(rendition.width for rendition in made)
        publish(events.MediaRenditionsMade(media_id=media.pk, widths=widths))
    return RenditionsOutcome(made=tuple(widths), kept=kept)
