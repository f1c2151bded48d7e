"""A Redis cache that degrades instead of failing requests when Redis is down.

The cache holds nothing that must survive (API throttle histories, computed pages): while Redis
does not answer, reads miss, writes are dropped, and the outage is logged once per interval;
requests go on. After a failure Redis is left alone for a few seconds so that each request does
not wait for a connection timeout.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import redis.exceptions
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    retry_after = 5.0  # seconds without trying Redis after a failure

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _guard(self, operation: Callable[[], Any], fallback: Any) -> Any:
        if not self.available:
            return fallback
        try:
            return operation()
        except OUTAGE_ERRORS as exc:
            with self._lock:
                first = self.available
                self._down_until = time.monotonic() + self.retry_after
            if first:
                logger.warning("Cache (Redis) unavailable, running without it: %s", exc)
            return fallback

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._guard(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._guard(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def set(self, key: Any, value: Any, timeout: Any = ..., version: int | None = None) -> None:
        args = (key, value) if timeout is ... else (key, value, timeout)
        self._guard(lambda: super(ResilientRedisCache, self).set(*args, version=version), None)

    def add(self, key: Any, value: Any, timeout: Any = ..., version: int | None = None) -> bool:
        args = (key, value) if timeout is ... else (key, value, timeout)
        return self._guard(lambda: super(ResilientRedisCache, self).add(*args, version=version), False)

    def set_many(self, data: dict, timeout: Any = ..., version: int | None = None) -> list:
        args = (data,) if timeout is ... else (data, timeout)
        return self._guard(lambda: super(ResilientRedisCache, self).set_many(*args, version=version), list(data))

    def touch(self, key: Any, timeout: Any = ..., version: int | None = None) -> bool:
        args = (key,) if timeout is ... else (key, timeout)
        return self._guard(lambda: super(ResilientRedisCache, self).touch(*args, version=version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._guard(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._guard(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # No stored value to add to while Redis is away: callers of incr handle a missing key.
        def run() -> int:
            return super(ResilientRedisCache, self).incr(key, delta, version)

        if not self.available:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        result = self._guard(run, None)
        if result is None:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        return result

    def clear(self) -> None:
        """Delete this cache's keys (those under its KEY_PREFIX), not the whole Redis database:
        by default the Celery broker shares that database, and FLUSHDB would drop its queued tasks
        (and the sweep's sentinel, so everything pending would be queued again)."""

        def run() -> None:
            client = self._cache.get_client(write=True)
            pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.key_prefix) + ":*"
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    client.unlink(*batch)
                    batch.clear()
            if batch:
                client.unlink(*batch)

        self._guard(run, None)
