from django.db import migrations


def start_at_the_end_of_the_log(apps, schema_editor):
    """Routing reads the event log from where it is installed: history is never replayed."""
    counter = apps.get_model("tickets", "EventCounter").objects.filter(pk=1).first()
    apps.get_model("routing", "RoutingState").objects.get_or_create(
        pk=1, defaults={"last_seq": counter.value if counter else 0})


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_routing_initial"), ("tickets", "0010_ticket_inbox")]
    operations = [migrations.RunPython(start_at_the_end_of_the_log, migrations.RunPython.noop)]
