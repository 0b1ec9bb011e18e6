from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import selectors
from portal.api.permissions import IsAdminOrReadOnly
from portal.api.serializers import AccountSerializer, MeSerializer, TeamSerializer


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.teams_visible_to(user=self.request.user).prefetch_related("members", "accounts")


class AccountViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = AccountSerializer
    permission_classes = [IsAdminOrReadOnly]
    lookup_field = "account_id"
    lookup_value_regex = r"\d{12}"

    def get_queryset(self):
        return selectors.accounts_visible_to(user=self.request.user)
