"""Log in with a user name or an email address; lockouts after repeated wrong passwords (django-axes)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for log-ins that come with a request (pages, admin, API). A check
    of a password by our own code, with no request (a script, a test client), has no client to lock."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


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


def login_key(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """What login lockouts count by: the account's user name, whether its email or its name was typed
    (so switching between them earns no extra guesses), lower-cased."""
    typed = ((credentials or {}).get("username") or "").strip()
    if not typed and request is not None:
        typed = (getattr(request, "POST", {}) or {}).get("username", "") or (getattr(request, "data", {}) or {}).get(
            "username", ""
        )
        typed = str(typed).strip()
    if "@" in typed:
        matches = list(get_user_model().objects.filter(email__iexact=typed)[:2])
        if len(matches) == 1:
            typed = matches[0].get_username()
    return typed.lower()
