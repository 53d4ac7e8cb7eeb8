"""Every write to content. Each function is one transaction that ends with its events published."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.core.errors import InvalidTransition, NotFound
from apps.events.publisher import publish
from apps.tenancy.selectors import tenant_by_schema

from . import events
from .errors import ContentInvalid, NodeNotFound
from .models import BodyFormat, Category, Media, Node, NodeStatus, NodeTranslation, Revision, Tag
from .rendering import render_body
from .validation import validate_image, validate_metadata

# The status machine: draft -> published -> archived -> draft; published -> draft (unpublish).
TRANSITIONS: dict[tuple[str, str], type[events.DomainEvent]] = {
    (NodeStatus.DRAFT, NodeStatus.PUBLISHED): events.NodePublished,
    (NodeStatus.PUBLISHED, NodeStatus.DRAFT): events.NodeUnpublished,
    (NodeStatus.PUBLISHED, NodeStatus.ARCHIVED): events.NodeArchived,
    (NodeStatus.ARCHIVED, NodeStatus.DRAFT): events.NodeRestored,
}
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


# -- helpers ---------------------------------------------------------------------


def current_locales() -> list[str]:
    tenant = tenant_by_schema(connection.schema_name)
    return tenant.locales if tenant else ["en"]


def _locked(node_id: UUID) -> Node:
    try:
        return Node.objects.select_for_update().get(pk=node_id)
    except (Node.DoesNotExist, DjangoValidationError, ValueError):
        raise NodeNotFound(f"no content {node_id}") from None


def _clean_translation(data: TranslationInput, *, locales: list[str]) -> TranslationInput:
    errors = {}
    if data.locale not in locales:
        errors["locale"] = f"'{data.locale}' is not enabled for this site ({', '.join(locales)})"
    title = (data.title or "").strip()
    if not title or len(title) > 255:
        errors["title"] = "must be 1 to 255 characters"
    slug = slugify(data.slug or title)[:255]
    if not slug:
        errors["slug"] = "cannot be empty (give a title with letters or digits)"
    if data.body_format not in BodyFormat.values:
        errors["body_format"] = f"must be one of {BodyFormat.values}"
    if len(data.meta_description or "") > 320:
        errors["meta_description"] = "at most 320 characters"
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
            changed = [name for name, value in values.items() if getattr(existing, name) != value]
            for name in changed:
                setattr(existing, name, values[name])
            if changed:
                existing.save()
    except IntegrityError:
        raise taken from None
    return existing, bool(changed)


def _check_parent(node: Node | None, parent_id: UUID | None) -> Node | None:
    if parent_id is None:
        return None
    parent = Node.objects.filter(pk=parent_id).first()
    if parent is None:
        raise ContentInvalid({"parent": "no such content"})
    ancestor = parent
    while ancestor is not None:
        if node is not None and ancestor.pk == node.pk:
            raise ContentInvalid({"parent": "a node cannot be its own ancestor"})
        ancestor = ancestor.parent
    return parent


def _check_refs(data_category: int | None, tag_ids: list[int], og_image_id: UUID | None) -> None:
    errors = {}
    if data_category is not None and not Category.objects.filter(pk=data_category).exists():
        errors["category"] = "no such category"
    if tag_ids and Tag.objects.filter(pk__in=tag_ids).count() != len(set(tag_ids)):
        errors["tags"] = "unknown tag"
    if og_image_id is not None and not Media.objects.filter(pk=og_image_id).exists():
        errors["og_image"] = "no such media"
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


def node_create(*, data: NodeInput, actor=None) -> Node:
    if not KIND_RE.fullmatch(data.kind or ""):
        raise ContentInvalid({"kind": "lowercase letters, digits, '-' or '_', up to 32 characters"})
    if not data.translations:
        raise ContentInvalid({"translations": "at least one translation is required"})
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
        node.tags.set(data.tag_ids)
        for translation in translations:
            _write_translation(node, translation)
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


def node_update(*, node_id: UUID, actor=None, message: str = "", **changes: Any) -> Node:
    """Change node fields (any of ``UPDATABLE``); a no-op change publishes nothing."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ContentInvalid({name: "cannot be changed here" for name in sorted(unknown)})
    if "metadata" in changes:
        changes["metadata"] = validate_metadata(changes["metadata"])
    _check_refs(
        changes.get("category_id"), changes.get("tag_ids") or [], changes.get("og_image_id")
    )
    with transaction.atomic():
        node = _locked(node_id)
        before = snapshot(node)
        if "parent_id" in changes:
            _check_parent(node, changes["parent_id"])
        for name, value in changes.items():
            if name == "tag_ids":
                node.tags.set(value)
            else:
                setattr(node, name, value)
        node.save()
        return _after_change(node, actor=actor, before=before, message=message or "Updated")


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
    translation = _clean_translation(data, locales=current_locales())
    with transaction.atomic():
        node = _locked(node_id)
        before = snapshot(node)
        row, changed = _write_translation(node, translation)
        if changed:
            _after_change(
                node, actor=actor, before=before, message=f"Translation {translation.locale}"
            )
            publish(
                events.TranslationUpdated(
                    node_id=node.pk,
                    kind=node.kind,
                    version=node.version,
                    locale=row.locale,
                    slug=row.slug,
                ),
                actor=actor,
            )
    return row


def translation_delete(*, node_id: UUID, locale: str, actor=None) -> None:
    with transaction.atomic():
        node = _locked(node_id)
        if node.translations.count() <= 1:
            raise ContentInvalid({"locale": "the last translation of a node cannot be deleted"})
        before = snapshot(node)
        deleted, _ = node.translations.filter(locale=locale).delete()
        if not deleted:
            raise ContentInvalid({"locale": f"no '{locale}' translation"})
        _after_change(node, actor=actor, before=before, message=f"Removed translation {locale}")
        publish(
            events.TranslationDeleted(
                node_id=node.pk, kind=node.kind, version=node.version, locale=locale
            ),
            actor=actor,
        )


def _transition(
    node_id: UUID,
    target: str,
    *,
    actor=None,
    now: datetime | None = None,
    only_from: str | None = None,
) -> Node:
    with transaction.atomic():
        node = _locked(node_id)
        event_class = TRANSITIONS.get((node.status, target))
        if event_class is None or (only_from is not None and node.status != only_from):
            raise InvalidTransition(
                f"cannot go from {node.status} to {target}", current=node.status, target=target
            )
        previous = node.status
        node.status = target
        if target == NodeStatus.PUBLISHED:
            node.published_at = node.published_at or now or timezone.now()
            node.publish_at = None
        node.version += 1
        node.save(update_fields=["status", "published_at", "publish_at", "version", "updated_at"])
        publish(
            event_class(
                node_id=node.pk,
                kind=node.kind,
                version=node.version,
                from_status=previous,
                to_status=target,
            ),
            actor=actor,
        )
    return node


def node_publish(*, node_id: UUID, actor=None) -> Node:
    return _transition(node_id, NodeStatus.PUBLISHED, actor=actor)


def node_unpublish(*, node_id: UUID, actor=None) -> Node:
    return _transition(node_id, NodeStatus.DRAFT, actor=actor, only_from=NodeStatus.PUBLISHED)


def node_archive(*, node_id: UUID, actor=None) -> Node:
    return _transition(node_id, NodeStatus.ARCHIVED, actor=actor)


def node_restore(*, node_id: UUID, actor=None) -> Node:
    """An archived node back to draft."""
    return _transition(node_id, NodeStatus.DRAFT, actor=actor, only_from=NodeStatus.ARCHIVED)


def node_schedule(*, node_id: UUID, publish_at: datetime | None, actor=None) -> Node:
    if publish_at is not None and publish_at <= timezone.now():
        raise ContentInvalid({"publish_at": "must be in the future (or empty to cancel)"})
    with transaction.atomic():
        node = _locked(node_id)
        if node.status != NodeStatus.DRAFT:
            raise InvalidTransition(
                f"only drafts can be scheduled; this one is {node.status}", current=node.status
            )
    return node_update(
        node_id=node_id,
        publish_at=publish_at,
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
            _transition(node_id, NodeStatus.PUBLISHED, now=now)
            published += 1
        except InvalidTransition:
            continue  # changed meanwhile
    return published


def node_delete(*, node_id: UUID, actor=None) -> None:
    with transaction.atomic():
        node = _locked(node_id)
        if node.children.exists():
            raise ContentInvalid({"children": "move or delete the children first"})
        event = events.NodeDeleted(node_id=node.pk, kind=node.kind, version=node.version + 1)
        node.delete()
        publish(event, actor=actor)


def revision_restore(*, node_id: UUID, number: int, actor=None) -> Node:
    """Bring a node's fields and translations back to revision ``number``, as a new revision."""
    with transaction.atomic():
        node = _locked(node_id)
        revision = node.revisions.filter(number=number).first()
        if revision is None:
            raise ContentInvalid({"revision": f"no revision {number}"})
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


def _clean_name_slug(name: str, slug: str, *, max_length: int) -> tuple[str, str]:
    name = (name or "").strip()
    slug = slugify(slug or name)[:max_length]
    errors = {}
    if not name or len(name) > max_length:
        errors["name"] = f"must be 1 to {max_length} characters"
    if not slug:
        errors["slug"] = "cannot be empty"
    if errors:
        raise ContentInvalid(errors)
    return name, slug


def category_create(
    *, name: str, slug: str = "", parent_id: int | None = None, description: str = "", actor=None
) -> Category:
    name, slug = _clean_name_slug(name, slug, max_length=120)
    if parent_id is not None and not Category.objects.filter(pk=parent_id).exists():
        raise ContentInvalid({"parent": "no such category"})
    try:
        with transaction.atomic():
            category = Category.objects.create(
                name=name, slug=slug, parent_id=parent_id, description=description
            )
            publish(events.CategoryCreated(category_id=category.pk, slug=slug), actor=actor)
    except IntegrityError:
        raise ContentInvalid({"slug": f"'{slug}' is taken"}) from None
    return category


def category_update(
    *,
    category_id: int,
    name: str | None = None,
    slug: str | None = None,
    parent_id: int | None = None,
    to_top_level: bool = False,
    position: int | None = None,
    description: str | None = None,
    actor=None,
) -> Category:
    """Change a category; ``parent_id`` moves it under another, ``to_top_level`` to the top."""
    with transaction.atomic():
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"no category {category_id}")
        new_name, new_slug = _clean_name_slug(
            name if name is not None else category.name,
            slug if slug is not None else category.slug,
            max_length=120,
        )
        if parent_id is not None:
            ancestor = Category.objects.filter(pk=parent_id).first()
            if ancestor is None:
                raise ContentInvalid({"parent": "no such category"})
            while ancestor is not None:
                if ancestor.pk == category.pk:
                    raise ContentInvalid({"parent": "a category cannot be its own ancestor"})
                ancestor = ancestor.parent
            category.parent_id = parent_id
        elif to_top_level:
            category.parent_id = None
        if position is not None:
            if position < 0:
                raise ContentInvalid({"position": "must be zero or more"})
            category.position = position
        category.name, category.slug = new_name, new_slug
        if description is not None:
            category.description = description
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError:
            raise ContentInvalid({"slug": f"'{new_slug}' is taken"}) from None
        publish(events.CategoryUpdated(category_id=category.pk, slug=category.slug), actor=actor)
    return category


def category_delete(*, category_id: int, actor=None) -> None:
    with transaction.atomic():
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise NotFound(f"no category {category_id}")
        if category.children.exists():
            raise ContentInvalid({"children": "delete or move the subcategories first"})
        event = events.CategoryDeleted(category_id=category.pk, slug=category.slug)
        category.delete()
        publish(event, actor=actor)


def tag_get_or_create(*, name: str, slug: str = "", actor=None) -> Tag:
    name, slug = _clean_name_slug(name, slug, max_length=80)
    with transaction.atomic():
        tag = Tag.objects.filter(slug=slug).first()
        if tag is None:
            tag = Tag.objects.create(name=name, slug=slug)
            publish(events.TagCreated(tag_id=tag.pk, slug=slug), actor=actor)
    return tag


def tag_update(*, tag_id: int, name: str, slug: str = "", actor=None) -> Tag:
    name, slug = _clean_name_slug(name, slug, max_length=80)
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id).first()
        if tag is None:
            raise NotFound(f"no tag {tag_id}")
        if Tag.objects.filter(slug=slug).exclude(pk=tag_id).exists():
            raise ContentInvalid({"slug": f"'{slug}' is taken"})
        tag.name, tag.slug = name, slug
        tag.save(update_fields=["name", "slug"])
        publish(events.TagUpdated(tag_id=tag.pk, slug=slug), actor=actor)
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
        raise ContentInvalid({"alt_text": f"locales not enabled: {', '.join(bad)}"})
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
            raise ContentInvalid({"alt_text": f"locales not enabled: {', '.join(bad)}"})
        media.alt_text = {locale: (text or "").strip()[:300] for locale, text in alt_text.items()}
        media.save(update_fields=["alt_text"])
        publish(events.MediaUpdated(media_id=media.pk), actor=actor)
    return media


def media_delete(*, media_id: UUID, actor=None) -> None:
    with transaction.atomic():
        media = Media.objects.select_for_update().filter(pk=media_id).first()
        if media is None:
            raise NotFound(f"no media {media_id}")
        name = media.file.name
        media.delete()
        publish(events.MediaDeleted(media_id=media_id), actor=actor)
        storage = media.file.storage
        transaction.on_commit(lambda: storage.delete(name))
