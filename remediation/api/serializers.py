from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from remediation import services
from remediation.models import ActionRun, DryRun, Finding, Policy, Rule, RuleException
from remediation.selectors import dry_run_report_for


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

    def validate_max_resources(self, value):
        if value < 1:
            raise serializers.ValidationError("Give a whole number of at least 1.")
        return value

    def save(self, **kwargs) -> Policy:
        try:
            self.instance = services.policy_save(policy=self.instance, user=self.context["request"].user,
                                                 **self.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return self.instance


class ActionRunSerializer(serializers.ModelSerializer):
    policy = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
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


class DryRunCreateSerializer(serializers.Serializer):
    """Replay policies and signatures over a past window: `policies` (ids), `signatures` (names of stored ones, any
    status), `signature_drafts` (definitions not saved yet; one named like a stored signature replaces it), at
    least one policy or signature; `since`, `until` (ISO 8601; until defaults to now)."""

    policies = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    signatures = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    signature_drafts = serializers.ListField(child=serializers.DictField(), required=False, default=list,
                                             help_text="Signature definitions: name, title, pattern, conditions, "
                                                       "severity, dedup_minutes ...")
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(required=False)


class DryRunActionSerializer(serializers.Serializer):
    policy = serializers.CharField()
    policy_version = serializers.IntegerField()
    step = serializers.IntegerField()
    action = serializers.CharField()
    target = serializers.DictField()
    api_call = serializers.CharField()
    parameters = serializers.DictField()
    expected_change = serializers.CharField(allow_blank=True)
    outcome = serializers.ChoiceField(choices=["WOULD_RUN", "NOTHING_TO_DO", "BLOCKED", "HELD", "NOT_REACHED"])
    blocked = serializers.CharField(allow_blank=True)
    trigger = serializers.DictField()
    reason = serializers.CharField(allow_blank=True)


class DryRunAlertSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    title = serializers.CharField()
    account_id = serializers.CharField(allow_blank=True)
    identity = serializers.CharField(allow_blank=True)
    resource_id = serializers.CharField(allow_blank=True)
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    count = serializers.IntegerField()
    event_ids = serializers.ListField(child=serializers.CharField(), help_text="The first 5.")


class DryRunChartBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    hits = serializers.IntegerField()
    alerts = serializers.IntegerField()


class DryRunChartSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=["hour", "day"])
    buckets = DryRunChartBucketSerializer(many=True)


class DryRunActualSerializer(serializers.Serializer):
    stored = serializers.BooleanField()
    status = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    versions = serializers.ListField(child=serializers.IntegerField(), help_text="The versions its hits were made by.")
    hits = serializers.IntegerField(help_text="Live (not staged) hits in the window.")
    alerts = serializers.IntegerField(help_text="Alerts first seen in the window.")


class DryRunComparisonSerializer(serializers.Serializer):
    same = serializers.IntegerField()
    only_in_dry_run = serializers.IntegerField()
    only_actual = serializers.IntegerField()


class DryRunSignatureSerializer(serializers.Serializer):
    """One signature's replay: its hits and would-be alerts against what the stored one really did (compared by
    fingerprint)."""

    name = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="None for a draft.")
    draft = serializers.BooleanField()
    base_version = serializers.IntegerField(allow_null=True, help_text="A draft's stored signature's version.")
    status = serializers.CharField()
    hits = serializers.IntegerField()
    alerts = serializers.IntegerField()
    examples = DryRunAlertSerializer(many=True)
    chart = DryRunChartSerializer()
    actual = DryRunActualSerializer()
    comparison = DryRunComparisonSerializer()


class DryRunSerializer(serializers.ModelSerializer):
    """A dry run and, once it SUCCEEDED, its report (a developer's is cut to their teams' accounts)."""

    policies = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    applied_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    actions = serializers.SerializerMethodField()
    differences = serializers.SerializerMethodField()
    compliance = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    signature_names = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()

    class Meta:
        model = DryRun
        fields = ["id", "status", "policies", "signature_names", "since", "until", "requested_by", "created",
                  "started", "finished", "progress", "error", "summary", "actions", "differences", "compliance",
                  "signatures", "applied", "applied_by"]

    def _report(self, dry_run) -> dict:
        cache = self.context.setdefault("_reports", {})
        if dry_run.pk not in cache:
            cache[dry_run.pk] = dry_run_report_for(dry_run, user=self.context["request"].user)
        return cache[dry_run.pk]

    @extend_schema_field(DryRunActionSerializer(many=True))
    def get_actions(self, dry_run) -> list:
        return [{k: v for k, v in a.items() if k not in ("plan", "chain", "policy_id")}
                for a in self._report(dry_run).get("actions", [])]

    def get_differences(self, dry_run) -> dict:
        return self._report(dry_run).get("differences", {})

    def get_compliance(self, dry_run) -> list:
        return self._report(dry_run).get("compliance", [])

    def get_signature_names(self, dry_run) -> list[str]:
        return [s["name"] for s in dry_run.signatures]

    @extend_schema_field(DryRunSignatureSerializer(many=True))
    def get_signatures(self, dry_run) -> list:
        return self._report(dry_run).get("signatures", [])

    def get_summary(self, dry_run) -> dict:
        report = self._report(dry_run)
        return {"policies": report.get("policies", []), "scanned": report.get("scanned", {}),
                "truncated": report.get("truncated", False)}
