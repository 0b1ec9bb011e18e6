from urllib.parse import urlencode

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from audit import selectors
from audit.api.serializers import (
    ConfigurationItemSerializer,
    EventDetailSerializer,
    EventSerializer,
    PortalCallCountSerializer,
    ResourceDetailSerializer,
    ResourceSerializer,
    TimelineEntrySerializer,
)
from portal.request_values import as_id
from portal.validation import bad_filter

_PARAMS = [OpenApiParameter(name, str, description=f"Filter by {name.replace('_', ' ')}")
           for name in selectors.FILTERS if name != "include_portal"] + [
    OpenApiParameter("include_portal", bool, description="true: Guardrail's own calls too (its roles' sessions; "
                                                        "marked by_portal), hidden by default")]


@extend_schema_view(list=extend_schema(parameters=_PARAMS))
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """CloudTrail event history, newest first; developers see their teams' accounts only."""

    lookup_field = "event_id"
    lookup_value_regex = r"[\w-]{1,64}"

    def get_serializer_class(self):
        return EventDetailSerializer if self.action == "retrieve" else EventSerializer

    def get_queryset(self):
        events = selectors.events_visible_to(user=self.request.user)
        if self.action != "list":
            return events
        try:
            return selectors.events_filter(events, self.request.query_params)
        except ValueError as exc:
            raise bad_filter(exc) from None

    @extend_schema(parameters=[
        OpenApiParameter("account_id", str, description="One account"),
        OpenApiParameter("since", str, description="First day, YYYY-MM-DD (UTC)"),
        OpenApiParameter("until", str, description="Last day, YYYY-MM-DD (UTC)")],
        responses=PortalCallCountSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="portal-reads")
    def portal_reads(self, request):
        """Guardrail's own read-only calls per account and day (UTC), counted instead of stored; newest day first."""
        counts = selectors.portal_call_counts_visible_to(user=request.user)
        try:
            counts = selectors.portal_call_counts_filter(counts, request.query_params)
        except ValueError as exc:
            raise bad_filter(exc) from None
        page = self.paginate_queryset(counts)
        return self.get_paginated_response(PortalCallCountSerializer(page, many=True).data)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter(name, str, description=f"Filter by {name.replace('_', ' ')}")
    for name in selectors.RESOURCE_FILTERS]))
class ResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """The recorded inventory; developers see their teams' accounts only."""

    def get_serializer_class(self):
        return ResourceDetailSerializer if self.action == "retrieve" else ResourceSerializer

    def get_queryset(self):
        resources = selectors.resources_visible_to(user=self.request.user)
        if self.action != "list":
            return resources
        try:
            return selectors.resources_filter(resources, self.request.query_params)
        except ValueError as exc:
            raise bad_filter(exc) from None

    @extend_schema(parameters=[
        OpenApiParameter("before", str, description="ISO 8601 time: entries older than it (the Link header's next)"),
        OpenApiParameter("limit", int, description="Entries per page, 1 to 1000 (default 100)")],
        responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # paged by time, through the Link header
    def timeline(self, request, pk=None):
        """Newest first: configuration changes with their diff and cause, the CloudTrail events, compliance
        changes. Paged by time: the `Link: <…?before=…>; rel="next"` header gives the older page."""
        resource = self.get_object()
        params = request.query_params
        before = None
        if params.get("before"):
            before = parse_datetime(params["before"])
            if before is None:
                raise ValidationError({"before": ["give an ISO 8601 time such as 2026-11-28T14:00:00Z"]})
        limit = params.get("limit", "100")
        if as_id(limit) is None or not 1 <= as_id(limit) <= 1000:
            raise ValidationError({"limit": ["give a whole number from 1 to 1000"]})
        entries, older = selectors.resource_timeline(resource, before=before, limit=as_id(limit))
        response = Response(TimelineEntrySerializer(entries, many=True).data)
        if older is not None:
            query = urlencode({"before": older.isoformat(), "limit": limit})
            response["Link"] = f'<{request.build_absolute_uri(request.path)}?{query}>; rel="next"'
        return response

    @extend_schema(parameters=[OpenApiParameter("at", str, description="ISO 8601 time; default now")],
                   responses=ConfigurationItemSerializer)
    @action(detail=True, methods=["get"])
    def configuration(self, request, pk=None):
        """The configuration item in effect at `at`: what the resource looked like then."""
        resource = self.get_object()
        try:
            item = selectors.item_at(resource, request.query_params.get("at") or timezone.now())
        except ValueError as exc:
            raise bad_filter(exc) from None
        if item is None:
            raise NotFound("The recorder had not seen this resource yet at that time.")
        return Response(ConfigurationItemSerializer(item).data)
