from rest_framework import serializers

from onboarding.checks import LINE_STATUSES
from onboarding.models import ConnectionCheck


class CheckLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=LINE_STATUSES)
    detail = serializers.CharField(allow_blank=True)
    fix = serializers.CharField(allow_blank=True)


class ConnectionCheckSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    finished = serializers.DateTimeField(read_only=True, allow_null=True)
    lines = CheckLineSerializer(many=True, read_only=True)

    class Meta:
        model = ConnectionCheck
        fields = ["id", "account_id", "status", "requested_by", "created", "finished", "lines"]
        read_only_fields = fields


class CheckEntrySerializer(serializers.Serializer):
    """One line as CONTRACT.md names it (name, ok, detail), with its key, status and what to fix."""

    name = serializers.CharField(source="title")
    ok = serializers.SerializerMethodField()
    detail = serializers.CharField(allow_blank=True)
    key = serializers.CharField()
    status = serializers.ChoiceField(choices=LINE_STATUSES)
    fix = serializers.CharField(allow_blank=True)

    def get_ok(self, line) -> bool:
        return line["status"] != "failed"


class CheckResultSerializer(serializers.Serializer):
    """POST /api/accounts/{account_id}/check/: {ok, checks[{name, ok, detail}]} (CONTRACT.md), and the check's id."""

    id = serializers.IntegerField()
    account_id = serializers.CharField(source="account.account_id")
    status = serializers.CharField()
    ok = serializers.SerializerMethodField()
    checks = CheckEntrySerializer(source="lines", many=True)

    def get_ok(self, check) -> bool:
        return check.status == "PASSED"
