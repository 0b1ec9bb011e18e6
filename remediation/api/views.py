from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.exceptions import ValidationError

from portal.roles import is_admin
from remediation import dashboard
from remediation.api.serializers import (ActionRunSerializer, FindingSerializer, PolicySerializer,
                                         RuleExceptionSerializer, RuleSerializer)
from remediation.models import Policy, Rule, RuleException


class AdminWrites(permissions.BasePermission):
    """Everyone signed in reads; only admins write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter(name, str, description=f"Filter by {name.replace('_', ' ')}") for name in dashboard.FILTERS]))
class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Compliance findings; developers see their teams' accounts only."""

    serializer_class = FindingSerializer

    def get_queryset(self):
        findings = dashboard.findings_visible_to(user=self.request.user)
        if self.action != "list":
            return findings
        try:
            return dashboard.findings_filter(findings, self.request.query_params)
        except ValueError as exc:
            name, _, message = str(exc).partition(": ")
            raise ValidationError({name: [message]}) from None


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
    queryset = RuleException.objects.select_related("rule")


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
        from remediation.remediate import actions_visible_to

        runs = actions_visible_to(user=self.request.user)
        for name in ("resource_id", "account_id", "status", "action"):
            if self.request.query_params.get(name):
                runs = runs.filter(**{name: self.request.query_params[name]})
        return runs
