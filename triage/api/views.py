"""/api/alerts/ and /api/signatures/."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from portal.roles import is_admin, is_developer
from portal.validation import bad_filter
from triage import selectors, services
from triage.api.serializers import AlertSerializer, AlertStatusSerializer, SignatureSerializer
from triage.models import Signature


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter(name, str, description=f"Filter by {name}") for name in selectors.ALERT_FILTERS]))
class AlertViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Alerts: one per fingerprint while open. Admins and the team's developers change the status; auditors read."""

    serializer_class = AlertSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        alerts = selectors.alerts_visible_to(user=self.request.user)
        if self.action != "list":
            return alerts
        try:
            return selectors.alerts_filter(alerts, self.request.query_params)
        except ValueError as exc:
            raise bad_filter(exc) from None

    @extend_schema(request=AlertStatusSerializer, responses=AlertSerializer)
    def partial_update(self, request, *args, **kwargs):
        alert = self.get_object()
        if not (is_admin(request.user) or is_developer(request.user)):
            raise PermissionDenied("Admins and the team's developers change an alert's status.")
        data = AlertStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.alert_status_set(alert=alert, status=data.validated_data["status"], user=request.user)
        return Response(AlertSerializer(alert).data)


class AdminWrites(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_admin(request.user)


class SignatureViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Signatures, stored centrally and versioned; admins edit; `test` runs its examples, `promote` takes a staged
    one live."""

    serializer_class = SignatureSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    queryset = Signature.objects.all()
    lookup_field = "name"

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def test(self, request, name=None):
        """Run the signature's positive and negative examples."""
        results = services.signature_tests_run(self.get_object())
        return Response({"passed": all(r["passed"] for r in results), "results": results})

    @extend_schema(request=None, responses=SignatureSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, name=None):
        try:
            signature = services.signature_promote(signature=self.get_object(), user=request.user)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(SignatureSerializer(signature).data)
