from rest_framework import serializers

from audit.models import CloudTrailEvent


class EventResourceSerializer(serializers.Serializer):
    type = serializers.CharField(source="resource_type")
    id = serializers.CharField(source="resource_id")
    arn = serializers.CharField()


class EventSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user_name")
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    resources = EventResourceSerializer(many=True, read_only=True)

    class Meta:
        model = CloudTrailEvent
        fields = ["event_id", "event_time", "event_name", "event_source", "username", "account_id", "region",
                  "source_ip", "error_code", "read_only", "resources", "team", "identity_type", "identity_arn",
                  "mfa_authenticated"]


class EventDetailSerializer(EventSerializer):
    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "user_agent", "error_message", "session_issuer_arn", "raw"]
