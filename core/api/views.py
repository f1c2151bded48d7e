"""API views that belong to no domain app."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response

from core import mfa
from core.api.throttling import AnonThrottle
from core.lockout import locked_out


class LoginThrottle(AnonThrottle):
    scope = "login"


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        label=_("Second-factor code"),
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The current code from the authenticator app (or a recovery code): required for an account "
        "with a second factor, and for moderators and platform admins, who must have one.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


@extend_schema(
    tags=["auth"],
    summary="Exchange a username and password (and a second-factor code) for an API token",
    request=TokenRequestSerializer,
    responses={200: TokenSerializer},
)
class TokenView(ObtainAuthToken):
    """Wrong passwords count towards the login lockout (django-axes) exactly as on the log-in page."""

    serializer_class = TokenRequestSerializer
    throttle_classes = [LoginThrottle]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
            return locked_out(request._request)
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        refusal = mfa.token_check(user=user, token=serializer.validated_data.get("otp", ""))
        if refusal is not None:
            return Response({"otp": [refusal]}, status=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
