"""The shapes of /api/alerts/ and /api/signatures/."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from triage import services
from triage.models import Alert, AlertStatus, Signature
from triage.tickets import ticket_of


class AlertSerializer(serializers.ModelSerializer):
    signature = serializers.SlugRelatedField(slug_field="name", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    status_changed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    ticket = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = ["id", "signature", "severity", "title", "event_ids", "count", "first_seen", "last_seen",
                  "account_id", "region", "identity", "resource_type", "resource_id", "team", "owner", "status",
                  "status_changed", "status_changed_by", "ticket"]
        read_only_fields = [f for f in fields if f != "status"]

    def get_ticket(self, alert) -> dict | None:
        return ticket_of(alert)


class AlertStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AlertStatus.choices)


class SignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ["id", "name", "title", "description", "pattern", "conditions", "severity", "tags", "actions",
                  "dedup_minutes", "tests", "status", "builtin", "version", "staged_since", "updated"]
        read_only_fields = ["builtin", "version", "staged_since", "updated"]

    def save(self, **kwargs) -> Signature:
        try:
            self.instance = services.signature_save(signature=self.instance, user=self.context["request"].user,
                                                    **self.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return self.instance
