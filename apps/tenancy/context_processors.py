from django.http import HttpRequest

from .models import Tenant


def tenant(request: HttpRequest) -> dict:
    current = getattr(request, "tenant", None)
    return {"tenant": current if isinstance(current, Tenant) else None}
