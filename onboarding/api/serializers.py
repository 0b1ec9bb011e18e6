from rest_framework import serializers

from onboarding.models import ConnectionCheck


class CheckLineSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["passed", "failed", "waiting"])
    detail = serializers.CharField(allow_blank=True)
    fix = serializers.CharField(allow_blank=True)


class ConnectionCheckSerializer(serializers.ModelSerializer):
    account_id = serializers.CharField(source="account.account_id", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lines = CheckLineSerializer(many=True, read_only=True)

    class Meta:
        model = ConnectionCheck
        fields = ["id", "account_id", "status", "requested_by", "created", "finished", "lines"]
        read_only_fields = fields
