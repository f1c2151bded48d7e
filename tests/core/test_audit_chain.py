"""The audit trail is a hash chain: tampering is caught, and every entry names its request."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.audit_chain import CONTENT_FIELDS, GENESIS_HASH, entry_content, entry_hash, verify_chain
from core.models import AuditEvent
from core.request_context import current_request_id, request_id_scope
from core.selectors import audit_events_for, audit_export_csv, audit_export_json
from core.services import audit_record
from tests.conftest import Cast
from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db


def record(cast: Cast, n: int = 3, **kwargs: Any) -> list[AuditEvent]:
    return [
        audit_record(actor=cast.admin, action="brand.checked", obj=cast.brand_a, reason=f"check {i}", **kwargs)
        for i in range(n)
    ]


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


def verify_fails() -> CommandError:
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify", stdout=io.StringIO())
    assert excinfo.value.returncode == 1
    return excinfo.value


def raw_sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- The chain ------------------------------------------------------------------------------


def test_each_event_links_to_the_one_before_and_hashes_what_is_stored(cast: Cast) -> None:
    head = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first() or GENESIS_HASH
    data = {"labels": ("a", "b"), 7: "int key", "big": 1e20, "zero": -0.0, "ratio": 0.1, "name": "Zoë ✓"}
    events = record(cast, data=data)

    assert events[0].prev_hash == head
    assert [e.prev_hash for e in events[1:]] == [e.entry_hash for e in events[:-1]]
    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.at == event.at  # microseconds and all: the stored time is the hashed one
        assert entry_content(stored) == entry_content(event)
        assert stored.entry_hash == entry_hash(stored.prev_hash, entry_content(stored))
    assert verify_chain(AuditEvent.objects.order_by("id").iterator()).ok


def test_canonical_content_is_the_documented_json() -> None:
    event = AuditEvent(
        at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        actor_label="système",
        action="brand.checked",
        object_type="brands.brand",
        object_id="5",
        brand_id=5,
        data={"b": 1, "a": [1, 2]},
    )
    content = entry_content(event)
    assert content == (
        '{"action":"brand.checked","actor_label":"système","at":"2026-01-02T03:04:05.000000+00:00",'
        '"brand_id":5,"data":{"a":[1,2],"b":1},"from_state":"","object_id":"5","object_repr":"",'
        '"object_type":"brands.brand","reason":"","request_id":"","to_state":""}'
    )
    assert entry_hash(GENESIS_HASH, content) == hashlib.sha256((GENESIS_HASH + content).encode()).hexdigest()


def test_every_way_of_inserting_is_chained(cast: Cast) -> None:
    """Apps that write events themselves (create, bulk_create) extend the same chain."""
    audit_record(actor=None, action="brand.checked", obj=cast.brand_a)
    AuditEvent.objects.create(actor_label="platform", action="x.created", object_type="x.x", object_id="1")
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor_label="platform", action="x.updated", object_type="x.x", object_id=i) for i in (1, 2)]
    )
    assert AuditEvent.objects.filter(object_type="x.x").count() == 3
    assert verify().startswith("OK: ")
    with pytest.raises(TypeError):
        AuditEvent.objects.bulk_create([AuditEvent(action="x", object_id="1")], ignore_conflicts=True)


def test_deleting_the_actor_keeps_the_chain_valid(cast: Cast) -> None:
    events = [audit_record(actor=cast.viewer_a, action="brand.viewed", obj=cast.brand_a) for _ in range(2)]
    # What deleting the user does to its events (on_delete=SET_NULL), without the rest of the cascade.
    raw_sql("UPDATE core_auditevent SET actor_id = NULL WHERE actor_id = %s", [cast.viewer_a.pk])
    assert AuditEvent.objects.get(pk=events[0].pk).actor_id is None
    assert verify().startswith("OK: ")


# --- audit_verify ---------------------------------------------------------------------------


def test_audit_verify_reports_count_and_head(cast: Cast) -> None:
    events = record(cast, 3)
    total = AuditEvent.objects.count()
    assert verify() == f"OK: {total} entries, chain head {events[-1].entry_hash}"


def test_audit_verify_on_an_empty_trail() -> None:
    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    assert verify() == f"OK: 0 entries, chain head {GENESIS_HASH}"


def test_a_changed_reason_is_caught_at_that_entry(cast: Cast) -> None:
    events = record(cast, 4)
    raw_sql("UPDATE core_auditevent SET reason = %s WHERE id = %s", ["nothing to see", events[1].pk])

    error = verify_fails()
    assert f"entry #{events[1].pk}: content changed" in str(error)
    result = verify_chain(AuditEvent.objects.order_by("id").iterator())
    assert (result.ok, result.broken_id, result.problem) == (False, events[1].pk, "content changed")


def test_a_deleted_entry_is_caught_at_the_next_one(cast: Cast) -> None:
    events = record(cast, 4)
    raw_sql("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])

    error = verify_fails()
    assert f"entry #{events[2].pk}: missing entries" in str(error)


def test_deleting_the_first_entries_is_caught() -> None:
    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    brand = BrandFactory()
    events = [audit_record(actor=None, action="brand.checked", obj=brand) for _ in range(3)]
    assert events[0].prev_hash == GENESIS_HASH
    raw_sql("DELETE FROM core_auditevent WHERE id = %s", [events[0].pk])

    result = verify_chain(AuditEvent.objects.order_by("id").iterator())
    assert (result.broken_id, result.problem) == (events[1].pk, "missing entries")


def test_a_rehashed_entry_still_breaks_the_next_link(cast: Cast) -> None:
    """Whoever fixes up a changed entry's own hash breaks the link of the entry after it."""
    events = record(cast, 3)
    changed = AuditEvent.objects.get(pk=events[1].pk)
    changed.reason = "nothing to see"
    raw_sql(
        "UPDATE core_auditevent SET reason = %s, entry_hash = %s WHERE id = %s",
        [changed.reason, entry_hash(changed.prev_hash, entry_content(changed)), changed.pk],
    )
    result = verify_chain(AuditEvent.objects.order_by("id").iterator())
    assert (result.broken_id, result.problem) == (events[2].pk, "missing entries")


def test_progress_is_reported() -> None:
    seen: list[int] = []
    brand = BrandFactory()
    for _ in range(5):
        audit_record(actor=None, action="brand.checked", obj=brand)
    total = AuditEvent.objects.count()
    verify_chain(AuditEvent.objects.order_by("id").iterator(chunk_size=2), seen.append, progress_every=2)
    assert seen[-1] == total
    assert seen == sorted(seen)


# --- Request ids ----------------------------------------------------------------------------


def invite(cast: Cast, api: Any, email: str, **headers: str) -> Any:
    api.force_authenticate(cast.manager_a)
    response = api.post(
        "/api/v1/memberships/", {"brand": cast.brand_a.pk, "email": email, "role": "viewer"}, headers=headers
    )
    assert response.status_code == 201
    return response


def test_a_request_id_from_the_caller_is_echoed_and_audited(cast: Cast, api: Any) -> None:
    response = invite(cast, api, "one@example.test", **{"X-Request-ID": "edge-7f3a.01_b"})
    assert response["X-Request-ID"] == "edge-7f3a.01_b"
    event = AuditEvent.objects.get(action="membership.created", object_id=str(response.json()["id"]))
    assert event.request_id == "edge-7f3a.01_b"
    assert verify().startswith("OK: ")


def test_a_request_without_an_id_gets_one(cast: Cast, api: Any) -> None:
    response = invite(cast, api, "two@example.test")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    int(request_id, 16)
    event = AuditEvent.objects.get(action="membership.created", object_id=str(response.json()["id"]))
    assert event.request_id == request_id
    assert current_request_id() == ""  # the request's id does not outlive it


@pytest.mark.parametrize(
    "hostile", ["a" * 65, "two words", "line\nbreak", "trailing-newline\n", "semi;colon", "ünïcode", ""]
)
def test_a_hostile_request_id_is_replaced(client: Any, hostile: str) -> None:
    response = client.get("/accounts/login/", headers={"X-Request-ID": hostile})
    assert response["X-Request-ID"] != hostile
    assert len(response["X-Request-ID"]) == 32


def test_a_sane_request_id_of_64_characters_is_kept(client: Any) -> None:
    response = client.get("/accounts/login/", headers={"X-Request-ID": "A" * 64})
    assert response["X-Request-ID"] == "A" * 64


def test_tasks_name_themselves_with_a_scope(cast: Cast) -> None:
    with request_id_scope("task:0b9a6c1e-2f4d-4a8e-9c51-3d7e2b1f6a90"):
        inside = audit_record(actor=None, action="brand.expired", obj=cast.brand_a)
    outside = audit_record(actor=None, action="brand.expired", obj=cast.brand_a)
    assert inside.request_id == "task:0b9a6c1e-2f4d-4a8e-9c51-3d7e2b1f6a90"
    assert outside.request_id == ""


# --- Export ---------------------------------------------------------------------------------


def test_export_lets_a_recipient_check_each_entry(cast: Cast) -> None:
    with request_id_scope("req-1"):
        ours = record(cast, 2, data={"note": "ünïcode", "n": [1, 2.5]})
    audit_record(actor=None, action="brand.checked", obj=cast.brand_b)
    membership = cast.membership_viewer_a

    events = audit_events_for([("brands.brand", str(cast.brand_a.pk)), ("brands.membership", str(membership.pk))])
    assert [e.object_id for e in events] == [str(cast.brand_a.pk)] * 2
    assert [e.pk for e in events] == [e.pk for e in ours]
    assert not audit_events_for([]).exists()

    exported = audit_export_json(events)
    assert [row["request_id"] for row in exported] == ["req-1", "req-1"]
    for row in json.loads(json.dumps(exported)):  # as the recipient reads it
        content = json.dumps(
            {name: row[name] for name in CONTENT_FIELDS}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        assert hashlib.sha256((row["prev_hash"] + content).encode()).hexdigest() == row["entry_hash"]

    lines = audit_export_csv(events).splitlines()
    assert lines[0].split(",")[-3:] == ["request_id", "prev_hash", "entry_hash"]
    assert len(lines) == 3
    assert lines[1].endswith(f"req-1,{ours[0].prev_hash},{ours[0].entry_hash}")


# --- Existing rows: the migration chains them -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_events_already_there() -> None:
    actor = UserFactory(username="auditor")
    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0001_initial")])
    try:
        old = executor.loader.project_state([("core", "0001_initial")]).apps.get_model("core", "AuditEvent")
        for i in range(3):
            old.objects.create(actor_id=actor.pk, actor_label="auditor", action="brand.checked",
                               object_type="brands.brand", object_id=str(i), data={"i": i, "x": 1.0})  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("core"))

    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) == 3
    assert events[0].prev_hash == GENESIS_HASH
    assert verify() == f"OK: 3 entries, chain head {events[-1].entry_hash}"
    audit_record(actor=None, action="brand.checked", obj=BrandFactory())  # new events continue it
    assert verify().startswith("OK: 4 entries")


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_one_unbroken_chain() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite serializes writers itself): set DATABASE_URL=postgres://...")
    brand = BrandFactory()
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        from django.db import connection as own_connection  # each thread has its own

        try:
            start.wait()
            for i in range(20):
                with transaction.atomic():
                    audit_record(actor=None, action="brand.checked", obj=brand, reason=f"{name} {i}")
                    time.sleep(0.002)  # keep the transaction open: a writer without the lock would fork
        except BaseException as exc:
            errors.append(exc)
        finally:
            own_connection.close()

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("left", "right")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert AuditEvent.objects.filter(reason__startswith="left").count() == 20
    assert AuditEvent.objects.filter(reason__startswith="right").count() == 20
    result = verify_chain(AuditEvent.objects.order_by("id").iterator())
    assert result.ok, result.detail
    assert result.checked == AuditEvent.objects.count()
