"""The revisions of a node in the admin: the list, and restoring one (through ``revision_restore``).

A mixin of every node admin (content's, the blog's posts, the pages): the views
are mounted by ``NodeAdmin.get_urls`` under the node's change page.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext

from apps.core.errors import PlatformError

from .. import selectors, services

PREVIEW_PATH = "/preview/{}/"
REVISIONS_PER_PAGE = 50


class RevisionViews:
    """``revisions_view`` and ``revision_restore_view`` of a ``NodeAdmin``."""

    def revisions_view(self, request, object_id):
        node = self._node_or_404(request, object_id)
        if not self.has_view_or_change_permission(request, node):
            raise PermissionDenied
        page = Paginator(selectors.revisions(node.pk), REVISIONS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        latest = node.revisions.order_by("-number").values_list("number", flat=True).first()
        rows = [
            {
                "revision": revision,
                "is_current": revision.number == latest,
                "titles": {
                    locale: values.get("title", "")
                    for locale, values in revision.snapshot.get("translations", {}).items()
                },
                "snapshot": json.dumps(revision.snapshot, indent=2, ensure_ascii=False),
                "restore_url": self.url("revision_restore", node.pk, revision.number),
            }
            for revision in page.object_list
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Revisions"),
            "subtitle": self.display_name(node),
            "opts": self.opts,
            "original": node,
            "node_title": self.display_name(node),
            "rows": rows,
            "page": page,
            "can_restore": self.has_change_permission(request, node),
            "change_url": self.url("change", node.pk),
            "preview_url": PREVIEW_PATH.format(node.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/revisions.html", context)

    def revision_restore_view(self, request, object_id, number: int):
        node = self._node_or_404(request, object_id)
        if not self.has_change_permission(request, node):
            raise PermissionDenied
        revision = node.revisions.select_related("author").filter(number=number).first()
        if revision is None:
            raise Http404("No such revision.")
        revisions_url = self.url("revisions", node.pk)
        if request.method == "POST":
            try:
                restored = services.revision_restore(
                    node_id=node.pk, number=number, actor=request.user
                )
            except PlatformError as refused:
                self.message_user(
                    request,
                    gettext("Not restored: %(reason)s") % {"reason": refused.detail},
                    messages.ERROR,
                )
            else:
                if restored.version == node.version:
                    self.message_user(
                        request,
                        gettext(
                            "Revision %(number)s is the same as the current content: "
                            "nothing changed."
                        )
                        % {"number": number},
                        messages.INFO,
                    )
                else:
                    node = self.get_object(request, str(node.pk)) or node
                    self.message_user(
                        request,
                        gettext("Restored revision %(number)s of “%(name)s” as a new revision.")
                        % {"number": number, "name": self.display_name(node)},
                        messages.SUCCESS,
                    )
            return HttpResponseRedirect(revisions_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Restore revision %(number)s?") % {"number": number},
            "subtitle": self.display_name(node),
            "opts": self.opts,
            "original": node,
            "node_title": self.display_name(node),
            "revision": revision,
            "snapshot": json.dumps(revision.snapshot, indent=2, ensure_ascii=False),
            "revisions_url": revisions_url,
            "change_url": self.url("change", node.pk),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/content/node/revision_restore.html", context)
