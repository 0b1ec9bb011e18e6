from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import drift, launches
from catalog.api.drift_serializers import DriftCheckSerializer
from catalog.api.launch_serializers import LaunchCreateSerializer, LaunchSerializer, LaunchStatusSerializer
from catalog.selectors import launches_visible_to


class LaunchUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False)
    parameters = serializers.DictField(required=False, help_text="Only what changes; NoEcho values are kept "
                                                                 "unless given again.")


class LaunchViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Developers launch and terminate their own; admins see and terminate all; auditors read all."""

    serializer_class = LaunchSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return launches_visible_to(user=self.request.user)

    @extend_schema(request=LaunchCreateSerializer,
                   responses={201: LaunchStatusSerializer,
                              400: OpenApiResponse(description="Names each bad field: name, version, parameters, "
                                                               "tags, account_id (not one of the team's accounts, "
                                                               "or not the launch role's), region, guardrails."),
                              404: OpenApiResponse(description="No such product or version the caller may launch.")},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = LaunchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        launch = launches.launch_create(
            user=request.user, product_id=data["product"], version_id=data["version"], name=data["name"],
            parameters=data["parameters"], tags=data["tags"], account_id=data.get("account_id"),
            region=data.get("region"),
            idempotency_key=data.get("idempotency_key") or request.headers.get("Idempotency-Key"),
        )
        launch.refresh_from_db()
        return Response({"id": launch.pk, "status": launch.status}, status=status.HTTP_201_CREATED)

    @extend_schema(request=LaunchUpdateSerializer, responses={202: LaunchStatusSerializer})
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        serializer = LaunchUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        launch = launches.launch_update(user=request.user, launch=self.get_object(),
                                        version_id=serializer.validated_data.get("version"),
                                        parameters=serializer.validated_data.get("parameters"))
        return Response({"id": launch.pk, "status": launch.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={202: LaunchStatusSerializer})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        launch = launches.launch_terminate(user=request.user, launch=self.get_object())
        return Response({"id": launch.pk, "status": launch.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={
        200: DriftCheckSerializer, 202: DriftCheckSerializer,
        400: OpenApiResponse(description="The launch has no running stack to check (status)."),
        404: OpenApiResponse(description="No such launch the caller sees, or (GET) never checked.")})
    @action(detail=True, methods=["get", "post"], url_path="drift")
    def drift(self, request: Request, *args, **kwargs) -> Response:
        """GET: the latest drift check's result. POST (owner or admin): ask CloudFormation again; the check runs in
        the background (its status says when it is done; GET again for the result)."""
        launch = self.get_object()
        if request.method == "POST":
            check = drift.drift_check_ask(user=request.user, launch=launch)
            check.refresh_from_db()
            return Response(DriftCheckSerializer(check).data, status=status.HTTP_202_ACCEPTED)
        check = drift.drift_latest(launch) or drift.drift_waiting(launch)
        if check is None:
            return Response({"detail": "This launch has not been checked for drift yet."},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(DriftCheckSerializer(check).data)
