"""Trigram indexes for evasion-proof search on PostgreSQL (pg_trgm, GIN).

Substring tests on the search keys (`search_key LIKE '%guci%'`) use them. SQLite has no
equivalent and answers the same queries by scanning; nothing is created there.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS listings_listing_search_key_trgm "
    "ON listings_listing USING gin (search_key gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS listings_listing_title_key_trgm "
    "ON listings_listing USING gin (title_key gin_trgm_ops)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS listings_listing_title_key_trgm",
    "DROP INDEX IF EXISTS listings_listing_search_key_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("listings", "0001_catalogue")]

    operations = [migrations.RunPython(forward, backward)]
