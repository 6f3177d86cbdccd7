"""Prefix indexes on the SQLite word tables (1-6 letters, tickets/search.py PREFIXES), so a last
word typed in part costs the same at 200k or 1M messages (issue 20). FTS5 takes them only at
CREATE, so both tables are remade and re-indexed. PostgreSQL: nothing to change."""

from django.db import migrations


def add_prefixes(apps, schema_editor):
    from tickets.search import rebuild_word_index

    rebuild_word_index(schema_editor, prefixes=True)


def remove_prefixes(apps, schema_editor):
    from tickets.search import rebuild_word_index

    rebuild_word_index(schema_editor, prefixes=False)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_customer_trigram_postgres")]
    operations = [migrations.RunPython(add_prefixes, remove_prefixes)]
