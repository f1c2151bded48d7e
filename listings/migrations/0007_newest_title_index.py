"""A narrow covering index for the search page's title group on PostgreSQL.

`(first_seen_at DESC, id DESC) INCLUDE (title_key)`: the newest listings in the page's order,
with the title key beside them, so a common word's newest title matches are found by reading
this index backwards (an index-only scan) instead of visiting every match's wide row
(listings.selectors._recent_title_ids). SQLite has no covering indexes; nothing is created there.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE INDEX IF NOT EXISTS listings_listing_newest_title "
    "ON listings_listing (first_seen_at DESC, id DESC) INCLUDE (title_key)",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS listings_listing_newest_title"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("listings", "0006_detections")]

    operations = [migrations.RunPython(forward, backward)]
