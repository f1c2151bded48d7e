"""Loaded before Django's settings (`-p tests.parallel` in pyproject.toml): when pytest-xdist runs
the suite in several processes, each keeps its Redis cache keys apart.

pytest-django creates one test database per xdist process (test_<name>_gw0, _gw1, ...) and each
process starts its own Celery worker under a key prefix of its own (tests/conftest.py); the cache
is the one shared thing left. Throttle counters are keyed by user id and client address, which the
processes' databases and requests share, so without this one process's requests would count
against another's. The variable is inherited by the worker, web server and beat processes the
tests start, so they use the same cache as the tests that started them.
"""

from __future__ import annotations

import os

worker = os.environ.get("PYTEST_XDIST_WORKER")
if worker:
    os.environ["CACHE_KEY_PREFIX"] = f"ippc-test-{worker}-{os.environ.get('PYTEST_XDIST_TESTRUNUID', '')[:8]}"
