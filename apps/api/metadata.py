"""Answers to OPTIONS: what an endpoint is and speaks. The OpenAPI schema describes the rest."""

from rest_framework.metadata import SimpleMetadata


class EndpointMetadata(SimpleMetadata):
    """DRF's metadata without ``actions``: the viewsets have one serializer per operation, not
    a ``serializer_class`` to describe (and /api/v1/schema/ describes every input exactly)."""

    def determine_actions(self, request, view):
        return {}

    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        metadata["schema"] = "/api/v1/schema/"
        return metadata
