"""Cross-cutting records: the append-only audit trail and worker heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are append-only")

    def delete(self):
        raise TypeError("Audit events are append-only")


class AuditEvent(models.Model):
    """One thing that happened: who did what to which object, from which state to which.

    Append-only: rows are never updated or deleted through the ORM. The object is named by
    its model label and primary key (not a foreign key) so the trail outlives the object.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
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

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only")


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
