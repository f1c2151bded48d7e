"""The id of the request (or task) being served, for the audit trail and logs.

Set by `core.middleware.RequestIdMiddleware` for web requests; a Celery task may wrap its work in
`request_id_scope(f"task:{self.request.id}")`. Outside either, the id is blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID_MAX_LENGTH = 64

_request_id: ContextVar[str] = ContextVar("ippc_request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def request_id_scope(value: str) -> Iterator[str]:
    """Make `value` (cut to 64 characters, the audit column's width) the current id inside the block."""
    value = (value or "")[:REQUEST_ID_MAX_LENGTH]
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)
