from rest_framework import serializers

from audit.models import CloudTrailEvent, ConfigResource, ConfigurationItem, PortalCallCount


class EventResourceSerializer(serializers.Serializer):
    type = serializers.CharField(source="resource_type")
    id = serializers.CharField(source="resource_id")
    arn = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user_name")
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    resources = EventResourceSerializer(many=True, read_only=True)
    portal = serializers.BooleanField(source="by_portal", read_only=True,
                                      help_text="Guardrail's own call (CONTRACT.md's name; by_portal says the same)")

    class Meta:
        model = CloudTrailEvent
        fields = ["event_id", "event_time", "event_name", "event_source", "username", "account_id", "region",
                  "source_ip", "error_code", "read_only", "resources", "team", "identity_type", "identity_arn",
                  "mfa_authenticated", "by_portal", "portal"]


class PortalCallCountSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortalCallCount
        fields = ["account_id", "day", "count"]


class EventDetailSerializer(EventSerializer):
    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "user_agent", "error_message", "session_issuer_arn", "raw"]


class ResourceSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ConfigResource
        fields = ["id", "resource_type", "resource_id", "account_id", "region", "status", "compliance", "name", "arn",
                  "team", "tags", "state_id", "first_seen", "last_changed", "last_captured"]


class ResourceDetailSerializer(ResourceSerializer):
    class Meta(ResourceSerializer.Meta):
        fields = [*ResourceSerializer.Meta.fields, "configuration", "supplementary", "relationships"]


class ConfigurationItemSerializer(serializers.ModelSerializer):
    """An item in AWS Config's shape (configurationItemStatus, configurationStateId ...), plus its diff."""

    configurationItemStatus = serializers.CharField(source="status")
    configurationStateId = serializers.IntegerField(source="state_id")
    configurationItemCaptureTime = serializers.DateTimeField(source="capture_time")
    resourceType = serializers.CharField(source="resource.resource_type")
    resourceId = serializers.CharField(source="resource.resource_id")
    resourceName = serializers.CharField(source="resource.name")
    arn = serializers.CharField(source="resource.arn")
    awsAccountId = serializers.CharField(source="resource.account_id")
    awsRegion = serializers.CharField(source="resource.region")
    supplementaryConfiguration = serializers.JSONField(source="supplementary")

    class Meta:
        model = ConfigurationItem
        fields = ["configurationItemStatus", "configurationStateId", "configurationItemCaptureTime", "resourceType",
                  "resourceId", "resourceName", "arn", "awsAccountId", "awsRegion", "configuration",
                  "supplementaryConfiguration", "tags", "relationships", "change_type", "diff", "cause"]


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    time = serializers.DateTimeField()
    summary = serializers.CharField()
    diff = serializers.JSONField()
    event_id = serializers.CharField()
    state_id = serializers.SerializerMethodField()
    change_type = serializers.SerializerMethodField()
    caused_by = serializers.SerializerMethodField()
    username = serializers.SerializerMethodField()
    source_ip = serializers.SerializerMethodField()

    def get_state_id(self, entry) -> int | None:
        return entry.item.state_id if entry.item else None

    def get_change_type(self, entry) -> str | None:
        return entry.item.change_type if entry.item else None

    def get_caused_by(self, entry) -> list[str]:
        return [e.event_id for e in entry.caused_by]

    def get_username(self, entry) -> str | None:
        return entry.event.user_name if entry.event else None

    def get_source_ip(self, entry) -> str | None:
        return entry.event.source_ip if entry.event else None
