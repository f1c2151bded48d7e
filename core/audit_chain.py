"""The audit trail as a hash chain: each entry's hash covers its content and the previous entry's hash.

    entry_hash = sha256(prev_hash + canonical JSON of the entry's content), hex; the first entry's
    prev_hash is 64 zeros. Canonical JSON: sort_keys, ensure_ascii=False, separators (",", ":"),
    UTF-8. Content: the fields in CONTENT_FIELDS, `at` as UTC ISO 8601 with microseconds.

Changing one entry breaks its own hash; removing one breaks the next entry's link. Removing the
newest entries, or rewriting the whole chain from some point on, is only caught against a chain
head recorded elsewhere (what `manage.py audit_verify` prints). Plain Python: no database here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

# `actor_id` is left out on purpose: it is SET_NULL when the user is deleted, a legitimate update
# (`actor_label` keeps who it was).
CONTENT_FIELDS = (
    "at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "brand_id",
    "from_state",
    "to_state",
    "reason",
    "data",
    "request_id",
)

# Key of the PostgreSQL transaction-level advisory lock that serializes appends to the chain.
CHAIN_LOCK_KEY = 0x1A0D_17C4_A1B5_0001

# Floats whose JSON is in exponent form and that are whole numbers (1e16 and up) come back from
# PostgreSQL's jsonb as integers; -0.0 comes back as 0.0.
_FLOAT_EXPONENT_FORM = 1e16


def canonical_at(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def stable_json(value: Any) -> Any:
    """`value` as every supported database gives it back once stored in a JSON column.

    Hash what will be read back, not what was passed in: tuples become lists, non-string keys
    strings, and the floats PostgreSQL would turn into integers are integers up front.
    """
    return _stable_numbers(json.loads(json.dumps(value)))


def _stable_numbers(value: Any) -> Any:
    if isinstance(value, float):
        if value == 0:
            return 0.0
        if value.is_integer() and abs(value) >= _FLOAT_EXPONENT_FORM:
            return int(value)
        return value
    if isinstance(value, list):
        return [_stable_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _stable_numbers(item) for key, item in value.items()}
    return value


def content_dict(event: Any) -> dict[str, Any]:
    """The hashed fields of `event` (an AuditEvent, or any object with those attributes)."""
    content = {name: getattr(event, name) for name in CONTENT_FIELDS}
    content["at"] = canonical_at(content["at"])
    return content


def entry_content(event: Any) -> str:
    """The canonical JSON of `event`'s content."""
    return canonical_json(content_dict(event))


def entry_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int  # entries read (up to and including the broken one)
    head: str  # entry_hash of the last good entry (GENESIS_HASH for an empty chain)
    broken_id: int | None = None
    problem: str = ""  # "content changed", "link broken" or "missing entries"
    detail: str = ""


def verify_chain(
    events: Iterable[Any],
    progress: Callable[[int], None] | None = None,
    *,
    progress_every: int = 1000,
) -> ChainCheck:
    """Walk `events` (in id order) and report the first entry that does not fit the chain.

    Holds one entry at a time: pass an iterator over the whole table. `progress(n)` is called with
    the number of entries checked every `progress_every` entries and once at the end.
    """
    expected_prev, previous_id, checked = GENESIS_HASH, None, 0
    for event in events:
        checked += 1
        computed = entry_hash(event.prev_hash, entry_content(event))
        if computed != event.entry_hash:
            return ChainCheck(
                False,
                checked,
                expected_prev,
                event.id,
                "content changed",
                f"stored hash {event.entry_hash or '(none)'}, but its content hashes to {computed}",
            )
        if event.prev_hash != expected_prev:
            if event.prev_hash == GENESIS_HASH:
                problem, why = "link broken", "a second chain starts here"
            else:
                problem, why = "missing entries", "the entry it links to is not there (removed)"
            after = f"entry #{previous_id}" if previous_id is not None else "the start of the chain"
            detail = f"it links to {event.prev_hash}, not to {after} ({expected_prev}): {why}"
            return ChainCheck(False, checked, expected_prev, event.id, problem, detail)
        expected_prev, previous_id = event.entry_hash, event.id
        if progress is not None and checked % progress_every == 0:
            progress(checked)
    if progress is not None:
        progress(checked)
    return ChainCheck(True, checked, expected_prev)
