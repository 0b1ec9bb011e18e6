from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from remediation import services
from remediation.models import ActionRun, Finding, Policy, Rule, RuleException


class FindingSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="name", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    excepted = serializers.BooleanField(read_only=True)
    resource = serializers.IntegerField(source="config_resource_id", read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = ["id", "rule", "resource_type", "resource_id", "account_id", "region", "team", "status",
                  "annotation", "since", "excepted", "first_seen", "last_seen", "resolved", "evaluated", "resource"]


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rule
        fields = ["id", "name", "kind", "source", "description", "parameters", "definition", "enabled", "at_launch",
                  "created", "updated"]
        read_only_fields = ["created", "updated"]

    def save(self, **kwargs) -> Rule:
        data = {**self.validated_data}
        current = self.instance
        values = {field: data.get(field, getattr(current, field) if current else default) for field, default in (
            ("name", ""), ("kind", ""), ("source", ""), ("description", ""), ("parameters", {}), ("definition", {}),
            ("enabled", True), ("at_launch", Rule.AtLaunch.IGNORE))}
        try:
            self.instance = services.rule_save(rule=current, user=self.context["request"].user, **values)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return self.instance


class RuleExceptionSerializer(serializers.ModelSerializer):
    rule = serializers.SlugRelatedField(slug_field="name", queryset=Rule.objects.all(), allow_null=True,
                                        required=False)
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = RuleException
        fields = ["id", "rule", "scope", "value", "reason", "expires", "active", "created"]
        read_only_fields = ["created"]

    def create(self, validated_data) -> RuleException:
        try:
            return services.exception_create(user=self.context["request"].user, rule=validated_data.get("rule"),
                                             scope=validated_data["scope"], value=validated_data["value"],
                                             reason=validated_data["reason"], expires=validated_data["expires"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class PolicySerializer(serializers.ModelSerializer):
    """A remediation policy; any change makes a new version (each action run records the version that ran)."""

    rule = serializers.SlugRelatedField(slug_field="name", queryset=Rule.objects.all(), allow_null=True,
                                        required=False)

    class Meta:
        model = Policy
        fields = ["id", "name", "description", "rule", "event_pattern", "actions", "mode", "scope", "max_resources",
                  "version", "updated"]
        read_only_fields = ["version", "updated"]

    def validate_actions(self, value):
        from remediation.actions import action_by_name

        if not isinstance(value, list) or not value:
            raise serializers.ValidationError('Give a list such as [{"action": "revoke_world_ingress"}].')
        for i, link in enumerate(value):
            if not isinstance(link, dict) or "action" not in link:
                raise serializers.ValidationError(f"actions[{i}]: give an object with an action name.")
            try:
                action_by_name(link["action"])
            except KeyError as exc:
                raise serializers.ValidationError(f"actions[{i}]: {exc.args[0]}") from None
            if not isinstance(link.get("details", {}), dict):
                raise serializers.ValidationError(f"actions[{i}].details: give an object.")
        return value

    def validate_event_pattern(self, value):
        if value is None:
            return value
        from remediation.patterns import compile_pattern

        try:
            compile_pattern(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_scope(self, value):
        if not isinstance(value, dict) or set(value) - {"accounts", "teams", "tags"}:
            raise serializers.ValidationError("Give an object with accounts[], teams[] and/or tags{}.")
        return value

    def validate(self, data):
        rule = data.get("rule", getattr(self.instance, "rule", None))
        pattern = data.get("event_pattern", getattr(self.instance, "event_pattern", None))
        if (rule is None) == (pattern is None):
            raise serializers.ValidationError({"rule": ["Give either a rule or an event_pattern (one of them)."]})
        return data

    def update(self, instance, validated_data):
        validated_data["version"] = instance.version + 1
        return super().update(instance, validated_data)


class ActionRunSerializer(serializers.ModelSerializer):
    policy = serializers.SlugRelatedField(slug_field="name", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    api_call = serializers.SerializerMethodField()
    expected_change = serializers.SerializerMethodField()

    class Meta:
        model = ActionRun
        fields = ["id", "policy", "policy_version", "mode", "action", "step", "account_id", "region", "resource_type",
                  "resource_id", "reason", "event_id", "status", "api_call", "expected_change", "plan", "outcome",
                  "requested_by", "created", "finished"]

    def get_api_call(self, run) -> str:
        return (run.plan or {}).get("api_call", "")

    def get_expected_change(self, run) -> str:
        return (run.plan or {}).get("expected_change", "")
