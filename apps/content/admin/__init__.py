"""Editors' admin of content on each tenant's ``admin.site``, one module per resource.

Thin delivery code: every write goes through services (the admin's own ORM
writes, ``form.save()``, ``formset.save()``, ``obj.delete()``, are never
called), and what a service refuses is shown where the editor can act on it
(``apps.core.admin.ServiceAdmin``).
"""

from . import media, nodes, revisions, taxonomy

__all__ = ["media", "nodes", "revisions", "taxonomy"]
