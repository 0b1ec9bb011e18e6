from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from remediation import services
from remediation.models import Finding, Rule, RuleException


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
