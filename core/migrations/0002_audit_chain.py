"""Audit trail: request ids and a hash chain; the rows already there are chained in id order."""

import django.utils.timezone
from django.db import migrations, models

# The live hashing code, not a frozen copy: the chain has one definition, and `audit_verify`
# must accept what this backfill writes.
from core.audit_chain import GENESIS_HASH, entry_content, entry_hash

BATCH = 1000


def chain_existing_events(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    db = schema_editor.connection.alias
    rows = models.QuerySet(model=AuditEvent, using=db).order_by("id")
    prev, last_id = GENESIS_HASH, 0
    while batch := list(rows.filter(id__gt=last_id)[:BATCH]):
        for event in batch:
            event.prev_hash = prev
            event.entry_hash = prev = entry_hash(prev, entry_content(event))
        models.QuerySet(model=AuditEvent, using=db).bulk_update(batch, ["prev_hash", "entry_hash"])
        last_id = batch[-1].id


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_index=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="entry_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("prev_hash",), name="uniq_audit_prev_hash"),
        ),
    ]
