"""Full-text search: FTS5 tables + triggers on SQLite, GIN expression indexes on PostgreSQL
(see tickets/search.py for why)."""

from django.db import migrations


def create(apps, schema_editor):
    from tickets.search import WORD_TABLES, create_index

    create_index(schema_editor, tables=WORD_TABLES)


def drop(apps, schema_editor):
    from tickets.search import WORD_TABLES, drop_index

    drop_index(schema_editor, tables=WORD_TABLES)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_console")]
    operations = [migrations.RunPython(create, drop)]
