"""The platform's modules and the dependencies they stand on.

Two registries, filled by the apps in their ``AppConfig.ready()``:

- ``Dependency``: what the readiness probe checks (the database, Redis, the broker, search,
  the payment gateway, webhook delivery, the outbox's lag). Each has a check, is critical or
  not, and may name the circuit breaker that guards the calls to it.
- ``Module``: an area of the site (blog, pages, forum, shop, checkout). Each names the
  tenant's switch that governs it (a tenant may turn the shop off), the paths it serves, the
  dependencies whose breakers degrade it, and its fallback then: ``read-only`` (writes answer
  503 with ``Retry-After``, reads go on) or ``disabled`` (every request answers 503).

A module's *mode* is the operator's (``manage.py module_mode``, kept in the public schema by
the tenancy app, which registers the source) or, when the operator set none, its fallback as
soon as one of its dependencies' breakers is open (in this process or, as shared through
Redis, in any other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from .breakers import open_breakers


class Mode(models.TextChoices):
    NORMAL = "normal", gettext_lazy("Normal")
    READ_ONLY = "read-only", gettext_lazy("Read-only")
    DISABLED = "disabled", gettext_lazy("Disabled")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Worse modes win when several apply to one request.
_SEVERITY = {Mode.NORMAL: 0, Mode.READ_ONLY: 1, Mode.DISABLED: 2}


class Degraded(Exception):
    """A check found its dependency working but not well (a lag, an open breaker)."""


@dataclass(frozen=True)
class Dependency:
    name: str
    check: Callable[[], None]  # raises when down, ``Degraded`` when limping
    critical: bool = False
    # Breakers guarding calls to it: one name, or a prefix ending in ":" for a family.
    breakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Module:
    name: str
    label: str | Promise
    # The tenant's switch that turns this module on and off ("shop" for the checkout); empty
    # for modules every tenant has.
    switch: str = ""
    # Request paths it serves (prefixes of ``path_info``) and URL namespaces (for the pages'
    # catch-all, which has no prefix of its own).
    paths: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    fallback: Mode = Mode.READ_ONLY

    def serves(self, path: str, namespace: str | None) -> bool:
        return path.startswith(self.paths) or (
            namespace is not None and namespace in self.namespaces
        )


@dataclass(frozen=True)
class ModeSetting:
    mode: Mode
    reason: str = ""


_dependencies: dict[str, Dependency] = {}
_modules: dict[str, Module] = {}
_switches: dict[str, str | Promise] = {}
_state: dict[str, Callable[[], dict[str, ModeSetting]]] = {}


def register_dependency(dependency: Dependency) -> None:
    _dependencies[dependency.name] = dependency


def register_module(module: Module, *, switch_label: str | Promise | None = None) -> None:
    """Add ``module``; ``switch_label`` names a tenant switch the module introduces."""
    _modules[module.name] = module
    if switch_label is not None:
        _switches[module.switch] = switch_label


def register_switchable(
    name: str, label: str | Promise, *, paths: tuple[str, ...], namespaces: tuple[str, ...] = ()
) -> None:
    """A module a tenant may turn off, under a switch of its own name."""
    register_module(
        Module(name, label, switch=name, paths=paths, namespaces=namespaces), switch_label=label
    )


def set_manual_modes_source(source: Callable[[], dict[str, ModeSetting]]) -> None:
    """Where the operator's modes come from (a cached read of the public schema)."""
    _state["manual"] = source


def dependencies() -> list[Dependency]:
    return list(_dependencies.values())


def modules() -> list[Module]:
    return list(_modules.values())


def module(name: str) -> Module | None:
    return _modules.get(name)


def switches() -> dict[str, str | Promise]:
    """The modules a tenant may turn on and off, by switch name, with their labels."""
    return dict(_switches)


def manual_modes() -> dict[str, ModeSetting]:
    source = _state.get("manual")
    return source() if source is not None else {}


def _open_breakers_of(dependency: Dependency, opened: set[str]) -> list[str]:
    found = []
    for name in dependency.breakers:
        if name.endswith(":"):
            found.extend(sorted(b for b in opened if b.startswith(name)))
        elif name in opened:
            found.append(name)
    return found


def dependency_breakers_open(dependency: Dependency, opened: set[str] | None = None) -> list[str]:
    """The open breakers (here or in any process) guarding ``dependency``."""
    return _open_breakers_of(dependency, open_breakers() if opened is None else opened)


def effective_mode(
    name: str,
    *,
    manual: dict[str, ModeSetting] | None = None,
    opened: set[str] | None = None,
) -> ModeSetting:
    """The mode module ``name`` is in now, and why."""
    manual = manual_modes() if manual is None else manual
    setting = manual.get(name)
    if setting is not None and setting.mode != Mode.NORMAL:
        return setting
    found = _modules.get(name)
    if found is None or not found.depends_on:
        return ModeSetting(Mode.NORMAL)
    opened = open_breakers() if opened is None else opened
    for dependency_name in found.depends_on:
        dependency = _dependencies.get(dependency_name)
        if dependency is not None and _open_breakers_of(dependency, opened):
            return ModeSetting(found.fallback, f"{dependency_name} is unavailable")
    return ModeSetting(Mode.NORMAL)


def worst(settings: list[ModeSetting]) -> ModeSetting:
    return max(settings, key=lambda s: _SEVERITY[s.mode], default=ModeSetting(Mode.NORMAL))


@dataclass
class Match:
    """The modules serving one request: the switches they need, the mode they are in."""

    modules: list[Module] = field(default_factory=list)

    @property
    def switches(self) -> set[str]:
        return {m.switch for m in self.modules if m.switch}

    def mode(self) -> ModeSetting:
        if not self.modules:
            return ModeSetting(Mode.NORMAL)
        manual = manual_modes()
        opened = open_breakers()
        return worst([effective_mode(m.name, manual=manual, opened=opened) for m in self.modules])


def match(path: str, namespace: str | None = None) -> Match:
    return Match([m for m in _modules.values() if m.serves(path, namespace)])


__all__ = [
    "SAFE_METHODS",
    "Degraded",
    "Dependency",
    "Match",
    "Mode",
    "ModeSetting",
    "Module",
    "dependencies",
    "dependency_breakers_open",
    "effective_mode",
    "manual_modes",
    "match",
    "module",
    "modules",
    "register_dependency",
    "register_module",
    "register_switchable",
    "set_manual_modes_source",
    "switches",
]
