from rest_framework import serializers

from catalog.models import DriftCheck


class DriftDifferenceSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="CloudFormation's PropertyPath, e.g. /SecurityGroupIngress/0.")
    expected = serializers.CharField(help_text="As the template (with its parameters) sets it; \"null\" if unset.")
    actual = serializers.CharField(help_text="As the resource is now; \"null\" if removed.")
    kind = serializers.CharField(help_text="ADD, REMOVE or NOT_EQUAL (CloudFormation's DifferenceType).")


class DriftResourceSerializer(serializers.Serializer):
    logical_id = serializers.CharField()
    physical_id = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField(help_text="IN_SYNC, MODIFIED, DELETED or NOT_CHECKED.")
    differences = DriftDifferenceSerializer(many=True)


class DriftCheckSerializer(serializers.ModelSerializer):
    resources = DriftResourceSerializer(many=True, read_only=True)
    error = serializers.CharField(source="last_error", read_only=True, help_text="Why the check failed, if it did.")

    class Meta:
        model = DriftCheck
        fields = ["id", "launch", "status", "stack_drift_status", "drifted_count", "resources", "error", "created",
                  "finished"]
        read_only_fields = fields
