"""Log in with a user name or an email address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class UsernameOrEmailBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username and "@" in username:
            user_model = get_user_model()
            matches = list(user_model.objects.filter(email__iexact=username.strip())[:2])
            if len(matches) == 1:  # an ambiguous email never logs anybody in
                username = matches[0].get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
