"""Customer search by fragment, index-backed: FTS5 trigram tables + triggers over customers'
names/organisations and identities' addresses/display names on SQLite (tickets/search.py).
PostgreSQL keeps substring matching for now (see README, Known limits)."""

from django.db import migrations


def create(apps, schema_editor):
    from tickets.search import TRIGRAM_TABLES, create_index

    create_index(schema_editor, tables=TRIGRAM_TABLES)


def drop(apps, schema_editor):
    from tickets.search import TRIGRAM_TABLES, drop_index

    drop_index(schema_editor, tables=TRIGRAM_TABLES)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0011_ticket_created_index")]
    operations = [migrations.RunPython(create, drop)]
