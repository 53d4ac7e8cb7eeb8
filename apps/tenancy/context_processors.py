from django.http import HttpRequest

from apps.core import modules

from .models import Tenant


def tenant(request: HttpRequest) -> dict:
    """The tenant, and ``modules_on``: its module switches (``{% if modules_on.forum %}``)."""
    current = getattr(request, "tenant", None)
    if not isinstance(current, Tenant):
        return {"tenant": None, "modules_on": {}}
    return {
        "tenant": current,
        "modules_on": {name: current.module_on(name) for name in modules.switches()},
    }
