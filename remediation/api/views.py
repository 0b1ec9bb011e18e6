from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.roles import is_admin
from portal.validation import bad_filter
from remediation import selectors
from remediation.api.serializers import (
    ActionRunSerializer,
    DryRunCreateSerializer,
    DryRunSerializer,
    FindingSerializer,
    PolicySerializer,
    RuleExceptionSerializer,
    RuleSerializer,
)
from remediation.dryrun import dry_run_apply, dry_run_create
from remediation.models import ActionRun, Policy, Rule, RuleException


class AdminWrites(permissions.BasePermission):
    """Everyone signed in reads; only admins write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter(name, str, description=f"Filter by {name.replace('_', ' ')}")
    for name in selectors.FINDING_FILTERS]))
class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Compliance findings; developers see their teams' accounts only."""

    serializer_class = FindingSerializer

    def get_queryset(self):
        findings = selectors.findings_visible_to(user=self.request.user)
        if self.action != "list":
            return findings
        try:
            return selectors.findings_filter(findings, self.request.query_params)
        except ValueError as exc:
            raise bad_filter(exc) from None


class RuleViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The rules the portal evaluates: managed (AWS's names and parameters), declarative, plug-in."""

    serializer_class = RuleSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    lookup_field = "name"
    queryset = Rule.objects.all()


class RuleExceptionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Exceptions: a resource, tag, account or team excepted from a rule, with a reason and an expiry."""

    serializer_class = RuleExceptionSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    queryset = RuleException.objects.select_related("rule")  # the schema's model; each request is scoped below

    def get_queryset(self):
        return selectors.exceptions_visible_to(user=self.request.user)


class PolicyViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Remediation policies: a rule or an EventBridge pattern, a chain of actions, a mode (off, dry_run, enforce),
    a scope and a blast-radius limit. Admins edit; everyone signed in reads."""

    serializer_class = PolicySerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    queryset = Policy.objects.select_related("rule")


class ActionRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Every action the policies (or an admin) took or, in dry_run, would have taken. Developers see the actions
    on their teams' accounts."""

    serializer_class = ActionRunSerializer

    def get_queryset(self):
        runs = selectors.actions_visible_to(user=self.request.user)
        for name in ("resource_id", "account_id", "status", "action"):
            if self.request.query_params.get(name):
                runs = runs.filter(**{name: self.request.query_params[name]})
        return runs


class DryRunCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class DryRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Policies and signatures replayed over a past window of stored events and configuration items: every action
    the policies would have taken, the differences from what the active versions did, the compliance it would
    produce; the alerts the signatures would have raised against those they did. Nothing in any account changes.
    Admins ask for them and may apply a report as a plan; everyone signed in reads."""

    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    serializer_class = DryRunSerializer

    def get_queryset(self):
        return selectors.dry_runs_visible_to(user=self.request.user)

    @extend_schema(request=DryRunCreateSerializer, responses={201: DryRunCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = DryRunCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dry_run = dry_run_create(policy_ids=data.validated_data["policies"], since=data.validated_data["since"],
                                     until=data.validated_data.get("until") or timezone.now(), user=request.user,
                                     signature_names=data.validated_data["signatures"],
                                     signature_drafts=data.validated_data["signature_drafts"])
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response({"id": dry_run.pk, "status": dry_run.status}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={202: ActionRunSerializer(many=True)})
    @action(detail=True, methods=["post"], pagination_class=None)
    def apply(self, request, pk=None):
        """Approve the report and apply it as a plan: exactly its actions, each checked again before it runs."""
        try:
            first = dry_run_apply(dry_run=self.get_object(), user=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        runs = ActionRun.objects.filter(pk__in=first)
        return Response(ActionRunSerializer(runs, many=True).data, status=status.HTTP_202_ACCEPTED)
