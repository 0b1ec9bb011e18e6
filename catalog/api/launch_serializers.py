from rest_framework import serializers

from catalog.launch_targets import ACCOUNT_ID_RULE
from catalog.launches import NAME, NAME_RULE
from catalog.models import LaunchRequest


class LaunchCreateSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    version = serializers.IntegerField()
    name = serializers.RegexField(NAME.pattern, max_length=100, help_text="Becomes part of the stack's name.",
                                  error_messages={"invalid": NAME_RULE})
    parameters = serializers.DictField(required=False, default=dict)
    tags = serializers.DictField(required=False, default=dict)
    account_id = serializers.RegexField(r"^\d{12}$", required=False, error_messages={"invalid": ACCOUNT_ID_RULE},
                                        help_text="One of the team's accounts (GET /api/products/{id}/launch-form/ "
                                                  "lists them under targets); default: the team's first account.")
    region = serializers.CharField(required=False, max_length=30,
                                   help_text="One of the regions the product may be launched in, in that account; "
                                             "default: its first allowed region.")
    idempotency_key = serializers.CharField(required=False, max_length=64,
                                            help_text="Send the same key again to get the same launch back.")


class LaunchStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class LaunchSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username")
    team = serializers.CharField(source="team.slug")
    parameters = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    version_name = serializers.CharField(source="version.name")
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = LaunchRequest
        fields = ["id", "name", "product", "product_name", "version", "version_name", "owner", "team", "status",
                  "status_reason", "stack_id", "account_id", "region", "parameters", "tags", "outputs", "events", "guardrail_fixes",
                  "created", "updated"]

    def get_parameters(self, launch: LaunchRequest) -> dict[str, str]:
        """Values as launched; every NoEcho parameter reads "****", whatever it was."""
        hidden = {p["key"]: "****" for p in launch.version.parameters if p.get("no_echo")}
        return {**launch.parameters, **hidden}

    def get_events(self, launch: LaunchRequest) -> list[dict]:
        return [{"time": t.created, "old_status": t.old_status, "status": t.new_status, "reason": t.reason}
                for t in launch.transitions.all()]
