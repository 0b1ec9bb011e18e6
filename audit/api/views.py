from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from audit import selectors
from audit.api.serializers import EventDetailSerializer, EventSerializer

_PARAMS = [OpenApiParameter(name, str, description=f"Filter by {name.replace('_', ' ')}")
           for name in selectors.FILTERS]


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
            name, _, message = str(exc).partition(": ")
            raise ValidationError({name: [message]}) from None
