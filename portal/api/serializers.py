from rest_framework import serializers

from portal import aws, services
from portal.models import Account, Team
from portal.roles import roles_of


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    accounts = serializers.SlugRelatedField(slug_field="account_id", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "members", "accounts"]


class AccountSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    allowed_regions = serializers.ListField(child=serializers.CharField(max_length=30), min_length=1, max_length=40)

    class Meta:
        model = Account
        fields = ["account_id", "name", "team", "allowed_regions", "role_name", "cloudtrail_source", "config_source",
                  "created",
                  "updated"]
        read_only_fields = ["created", "updated"]

    def validate_allowed_regions(self, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - aws.known_regions())
        if unknown:
            raise serializers.ValidationError(f"Unknown AWS region(s): {', '.join(unknown)}.")
        return sorted(set(value))

    def validate_account_id(self, value: str) -> str:
        if self.instance is not None and value != self.instance.account_id:
            raise serializers.ValidationError("An account's id cannot change.")
        return value

    def save(self, **kwargs) -> Account:
        data = {**self.validated_data, **kwargs}
        account_id = self.instance.account_id if self.instance else data["account_id"]
        self.instance = services.account_ensure(
            account_id=account_id,
            name=data.get("name", getattr(self.instance, "name", "")),
            team=data.get("team", getattr(self.instance, "team", None)),
            allowed_regions=data.get("allowed_regions", getattr(self.instance, "allowed_regions", [])),
            role_name=data.get("role_name", getattr(self.instance, "role_name", "")),
            cloudtrail_source=data.get("cloudtrail_source"),
            config_source=data.get("config_source"),
        )
        return self.instance


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()

    def get_roles(self, user) -> list[str]:
        return sorted(role.value for role in roles_of(user))

    def get_teams(self, user) -> list[str]:
        return list(user.teams.order_by("slug").values_list("slug", flat=True))


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "failing"])
    checks = serializers.DictField()
    info = serializers.DictField()
    time = serializers.DateTimeField()


