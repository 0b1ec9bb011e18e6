from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors, services
from catalog.api.serializers import (
    ConstraintSerializer,
    CreatedSerializer,
    LaunchFormSerializer,
    PortfolioSerializer,
    ProductSerializer,
    ProductWriteSerializer,
    VersionCreateSerializer,
    VersionSerializer,
)
from catalog.cfn.diff import parameter_diff
from catalog.cfn.parameter_spec import ParameterSpec
from catalog.launch_form import launch_form_build
from catalog.launch_targets import launch_target_choose, launch_targets_for
from catalog.models import Constraint, ProductVersion
from portal.api.permissions import IsAdminOrReadOnly
from portal.models import Team
from portal.request_values import as_id
from portal.roles import is_admin, sees_everything


class PortfolioViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PortfolioSerializer
    permission_classes = [IsAdminOrReadOnly]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.portfolios_visible_to(user=self.request.user).prefetch_related("products")

    @extend_schema(responses={201: CreatedSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        portfolio = services.portfolio_create(
            user=request.user, name=data["name"], description=data.get("description", ""),
            owner=data.get("owner") or request.user.get_username(),
            support_contact=data.get("support_contact", ""), teams=data.get("teams", []),
        )
        return Response({"id": portfolio.pk}, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        teams = data.pop("teams", None)
        services.portfolio_update(user=self.request.user, portfolio=serializer.instance, teams=teams, **data)


class ProductViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Products the caller may launch (developers), or every product (admins, auditors)."""

    permission_classes = [IsAdminOrReadOnly]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.products_visible_to(user=self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "partial_update", "update"):
            return ProductWriteSerializer
        if self.action == "versions":
            return VersionCreateSerializer if self.request.method == "POST" else VersionSerializer
        if self.action == "constraints":
            return ConstraintSerializer
        return ProductSerializer

    @extend_schema(responses={201: CreatedSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(user=request.user, **serializer.validated_data)
        return Response({"id": product.pk}, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        portfolios = data.pop("portfolios", None)
        services.product_update(user=self.request.user, product=serializer.instance, portfolios=portfolios, **data)

    @extend_schema(methods=["GET"], responses=VersionSerializer(many=True))
    @extend_schema(methods=["POST"], request=VersionCreateSerializer, responses={201: VersionSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        if request.method == "GET":
            versions = [v for v in selectors.versions_in_launch_order(product=product)
                        if sees_everything(request.user) or v.guidance != "INACTIVE"]
            return Response(VersionSerializer(versions, many=True).data)
        serializer = VersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = services.version_create(user=request.user, product=product, **serializer.validated_data)
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=ConstraintSerializer(many=True))
    @extend_schema(methods=["POST"], request=ConstraintSerializer, responses={201: CreatedSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def constraints(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        if request.method == "GET":
            if not sees_everything(request.user):
                raise PermissionDenied("Only admins and auditors see a product's constraints.")
            return Response(ConstraintSerializer(product.constraints.all(), many=True).data)
        serializer = ConstraintSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        constraint = services.constraint_create(user=request.user, product=product, **serializer.validated_data)
        return Response({"id": constraint.pk}, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("version", int, required=True, description="The version to launch."),
            OpenApiParameter("team", str, description="Admins: the team whose developer's form to preview."),
            OpenApiParameter("account_id", str, description="The form for a launch into this one of the team's "
                                                            "accounts (default: the first); 400 if it is not one."),
        ],
        responses=LaunchFormSerializer,
    )
    @action(detail=True, methods=["get"], url_path="launch-form")
    def launch_form(self, request: Request, pk: str | None = None) -> Response:
        product = self.get_object()
        version_id = request.query_params.get("version", "")
        if as_id(version_id) is None:
            raise ValidationError({"version": "Give the id of one of this product's versions."})
        version = selectors.version_for_user(user=request.user, version_id=as_id(version_id))
        if version is None or version.product_id != product.pk:
            raise ValidationError({"version": f"Product {product.pk} has no version {version_id} you may launch."})
        teams = _form_teams(request)
        targets = launch_targets_for(product=product, teams=teams) if teams is not None else None
        account_id = None
        if targets is not None and targets.accounts:  # the form of the chosen (or default) account's team
            chosen, _ = launch_target_choose(targets, account_id=request.query_params.get("account_id"))
            teams, account_id = [chosen.team], chosen.account.account_id
        constraints = list(selectors.constraints_for(product=product, teams=teams))
        form = launch_form_build(version=version, constraints=constraints, account_id=account_id)
        return Response({**form, "targets": targets.as_dict() if targets is not None else None})


def _form_teams(request: Request):
    """Whose form: the caller's own teams, or for an admin previewing, the named team's."""
    slug = request.query_params.get("team")
    if slug:
        if not sees_everything(request.user):
            raise PermissionDenied("Only admins and auditors preview another team's form.")
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise ValidationError({"team": f"No team {slug!r}."})
        return [team]
    if is_admin(request.user) or sees_everything(request.user):
        return None
    return list(request.user.teams.all())


class VersionViewSet(mixins.UpdateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = VersionSerializer
    queryset = ProductVersion.objects.none()  # for the schema; get_object scopes the real lookup
    lookup_value_regex = r"\d+"
    permission_classes = [IsAdminOrReadOnly]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        version = selectors.version_for_user(user=self.request.user, version_id=int(self.kwargs["pk"]))
        if version is None:
            raise Http404
        return version

    def perform_update(self, serializer) -> None:
        guidance = serializer.validated_data.get("guidance", serializer.instance.guidance)
        services.version_set_guidance(user=self.request.user, version=serializer.instance, guidance=guidance)

    @extend_schema(parameters=[OpenApiParameter("against", int, required=True)],
                   responses={200: {"type": "array", "items": {"type": "object"}}})
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        against_id = request.query_params.get("against", "")
        other = selectors.version_for_user(user=request.user, version_id=as_id(against_id)) \
            if as_id(against_id) is not None else None
        if other is None or other.product_id != version.product_id:
            raise ValidationError({"against": "Give another version of the same product."})
        old = [ParameterSpec.from_dict(p) for p in other.parameters]
        new = [ParameterSpec.from_dict(p) for p in version.parameters]
        return Response([change.as_dict() for change in parameter_diff(old, new)])


class ConstraintViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = ConstraintSerializer
    permission_classes = [IsAdminOrReadOnly]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.constraints_visible_to(user=self.request.user)

    def perform_destroy(self, instance: Constraint) -> None:
        services.constraint_delete(user=self.request.user, constraint=instance)
