"""Helpers that every module's services use on their models (no tables here).

``model_update`` replaces hand-written "compare, setattr, save the changed
fields" loops; ``ancestors`` walks a self-referencing tree (so that a parent
check refuses a cycle in one way everywhere).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db import models


def model_update(
    *, instance: models.Model, fields: Iterable[str], data: Mapping[str, Any], save: bool = True
) -> list[str]:
    """Set the ``fields`` of ``instance`` whose value in ``data`` differs; returns their names.

    Fields missing from ``data`` are left alone. With ``save`` the changed fields
    (and an ``auto_now`` field such as ``updated_at``) are written with one UPDATE;
    nothing is written when nothing changed.
    """
    changed = [name for name in fields if name in data and getattr(instance, name) != data[name]]
    for name in changed:
        setattr(instance, name, data[name])
    if save and changed:
        auto_now = [
            field.name
            for field in instance._meta.concrete_fields
            if getattr(field, "auto_now", False) and field.name not in changed
        ]
        instance.save(update_fields=[*changed, *auto_now])
    return changed


def ancestors(instance: models.Model | None, *, parent: str = "parent") -> Iterator[models.Model]:
    """``instance``, its parent, the parent's parent... up to the root."""
    while instance is not None:
        yield instance
        instance = getattr(instance, parent)


def would_cycle(instance: models.Model | None, new_parent: models.Model | None) -> bool:
    """Whether putting ``instance`` under ``new_parent`` makes it its own ancestor."""
    if instance is None or instance.pk is None:
        return False
    return any(ancestor.pk == instance.pk for ancestor in ancestors(new_parent))
