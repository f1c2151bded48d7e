"""Cross-cutting records: the append-only audit trail and worker heartbeats."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from core.audit_chain import CHAIN_LOCK_KEY, CONTENT_FIELDS, GENESIS_HASH, entry_content, entry_hash, stable_json
from core.request_context import current_request_id


class StoredUpload(models.Model):
    """A private file a user uploaded (notice evidence, a seller's application documents): stored
    under a generated name, checked by content (core.uploads), its sha256 unique per parent (the
    concrete model's constraint) and served only through a permission-checked view."""

    file = models.FileField(max_length=255)  # a generated name, never the user's
    original_name = models.CharField(max_length=160)
    content_type = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class AuditEventQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[AuditEvent], batch_size: int | None = None, **kwargs) -> list[AuditEvent]:
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise TypeError("Audit events are append-only: each one is inserted, none skipped or merged")
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db):
            _link_to_chain(objs, using=self.db)
            return super().bulk_create(objs, batch_size=batch_size, **kwargs)

    def update(self, **kwargs):
        raise TypeError("Audit events are append-only")

    def delete(self):
        raise TypeError("Audit events are append-only")


class AuditEvent(models.Model):
    """One thing that happened: who did what to which object, from which state to which.

    Append-only: rows are never updated or deleted through the ORM. The object is named by
    its model label and primary key (not a foreign key) so the trail outlives the object.

    Tamper-evident: every insert (create, save, bulk_create) links the event to the chain in id
    order, stamping `at`, the current request id and the hashes (see core.audit_chain).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, help_text="Who acted, kept if the user is deleted")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255, blank=True)
    brand_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    from_state = models.CharField(max_length=64, blank=True)
    to_state = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        constraints = [
            # A chain never forks: should two writers ever read the same head, the second insert fails
            # instead of leaving two entries that claim the same predecessor.
            models.UniqueConstraint(fields=["prev_hash"], name="uniq_audit_prev_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit events are append-only")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            _link_to_chain([self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only")


def _link_to_chain(events: list[AuditEvent], *, using: str) -> None:
    """Stamp `events` (about to be inserted, in this order) and chain them after the current head.

    Must run inside a transaction on `using` that then inserts them. On PostgreSQL it takes a
    transaction-level advisory lock first, so appends are serialized until that transaction ends
    and ids follow chain order; SQLite serializes writers by itself.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    head = AuditEvent._base_manager.db_manager(using).order_by("-id").values_list("entry_hash", flat=True).first()
    prev = head or GENESIS_HASH
    now, request_id = timezone.now(), current_request_id()
    for event in events:
        # Hash exactly what the database will give back: the time is set here (not by the
        # database), text and numbers have their column's type, JSON is in its stored form.
        event.at = now
        if not event.request_id:
            event.request_id = request_id
        for name in CONTENT_FIELDS:
            if name not in ("at", "data"):
                setattr(event, name, event._meta.get_field(name).to_python(getattr(event, name)))
        event.data = stable_json(event.data)
        event.prev_hash = prev
        event.entry_hash = prev = entry_hash(prev, entry_content(event))


class WorkerHeartbeat(models.Model):
    """Last time a worker consuming `queue` answered the periodic heartbeat task."""

    queue = models.CharField(max_length=64)
    hostname = models.CharField(max_length=255)
    last_seen = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["queue", "hostname"]
        constraints = [models.UniqueConstraint(fields=["queue", "hostname"], name="uniq_heartbeat_queue_host")]

    def __str__(self) -> str:
        return f"{self.queue}@{self.hostname}"


class OutboxMessage(models.Model):
    """A task written in the same transaction as the work that needs it (a transactional outbox).

    Sent to the broker right after the commit and deleted once the broker took it; a row that is
    still here (the broker was down, the process died between commit and send, an in-process run
    hit a transient error) is sent again by the sweep (`core.sweep`) once `next_attempt_at` passes.
    Rows whose attempts ran out stay with `next_attempt_at` empty: dead letters shown on /system/.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class PeriodicJobRun(models.Model):
    """The last run of each periodic job (beat in production, the in-process scheduler under `make run`)."""

    name = models.CharField(max_length=100, unique=True)
    task = models.CharField(max_length=200)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, blank=True, help_text="running, ok or failed")
    last_error = models.TextField(blank=True)
    last_result = models.JSONField(default=dict, blank=True)
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.last_status or 'never run'})"
