from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import selectors, services
from onboarding.api.serializers import CheckResultSerializer, ConnectionCheckSerializer
from portal import selectors as portal_selectors
from portal.api.permissions import IsAdminOrReadOnly


class AccountCheckView(APIView):
    """GET: the account's latest connection check; POST (admins): run one now and answer with every line (200)."""

    permission_classes = [IsAdminOrReadOnly]
    serializer_class = ConnectionCheckSerializer

    def _account(self, request: Request, account_id: str):
        account = portal_selectors.account_for_user(user=request.user, account_id=account_id)
        if account is None:
            raise NotFound(f"No account {account_id} that you can see.")
        return account

    @extend_schema(responses={200: ConnectionCheckSerializer})
    def get(self, request: Request, account_id: str) -> Response:
        found = selectors.check_latest(account=self._account(request, account_id))
        if found is None:
            raise NotFound("This account was never checked: POST to start a check.")
        return Response(ConnectionCheckSerializer(found).data)

    @extend_schema(request=None, responses={200: CheckResultSerializer})
    def post(self, request: Request, account_id: str) -> Response:
        check = services.check_now(account=self._account(request, account_id), user=request.user)
        return Response(CheckResultSerializer(check).data, status=status.HTTP_200_OK)
