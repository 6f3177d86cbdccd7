"""Customer search by fragment on PostgreSQL: the pg_trgm extension (where this role may create
it) and GIN trigram indexes over customers' names/organisations and identities' addresses/display
names, the columns SQLite's trigram tables (migration 0012) cover. tickets/search.py owns the DDL."""

from django.db import migrations


def create(apps, schema_editor):
    from tickets.search import create_trigram_index

    create_trigram_index(schema_editor)


def drop(apps, schema_editor):
    from tickets.search import drop_trigram_index

    drop_trigram_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_customer_search_index")]
    operations = [migrations.RunPython(create, drop)]
