"""Bulk merge: several tickets into one kept ticket (conversation copied as a note, tags joined,
the others closed with a note saying where they went), each in its own transaction, a result
per ticket; another customer's ticket only when the agent may merge customers."""

import pytest
from django.contrib.auth.models import Permission

from routing import bulk
from tests.factories import inbound
from tickets import services
from tickets.models import Event, Message, Ticket

pytestmark = pytest.mark.django_db


def _ticket(sender="+14155550100", text="Hello", name="Jane Doe"):
    return services.ingest(inbound(channel="fake", sender=sender, sender_name=name, text=text,
                                   hint={"join_open_ticket": False})).message.ticket


def notes(ticket):
    return list(Message.objects.filter(ticket=ticket, direction="note").order_by("pk").values_list("text", flat=True))


def test_same_customer_tickets_merge_into_the_chosen_one(agent):
    keep, dup1, dup2 = (_ticket(text=t) for t in ("My order is late", "Still no parcel", "Hello??"))
    assert len({keep.customer_id, dup1.customer_id, dup2.customer_id}) == 1 and len({keep.pk, dup1.pk, dup2.pk}) == 3
    services.set_tags(dup1, ["vip"], actor=agent)
    services.reply(dup2, author=agent, text="Looking into it", channel="fake")
    results = bulk.run(agent, [keep.pk, dup1.pk, dup2.pk], "merge", str(keep.pk))
    assert results == [{"ticket": keep.pk, "ok": True, "kept": True}, {"ticket": dup1.pk, "ok": True},
                       {"ticket": dup2.pk, "ok": True}]
    merged = notes(keep)
    assert merged[0].startswith(f"Merged from #{dup1.pk} \u201cStill no parcel\u201d (Jane Doe):")
    assert "Jane Doe (fake):\nStill no parcel" in merged[0]
    assert "Hello??" in merged[1] and "Agnes (fake):\nLooking into it" in merged[1]
    assert list(keep.tags.values_list("name", flat=True)) == ["vip"]
    for dup in (dup1, dup2):
        dup.refresh_from_db()
        assert dup.status == "closed" and notes(dup)[-1] == f"Merged into #{keep.pk}."
    assert Ticket.objects.get(pk=keep.pk).status == "new"  # the kept one is untouched otherwise
    assert Event.objects.filter(kind="ticket.updated", ticket=dup1, data__change="status").exists()


def test_another_customers_ticket_needs_the_merge_permission(django_user_model):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="Agents who may not merge customers")
    group.permissions.set(Permission.objects.filter(content_type__app_label="tickets").exclude(codename="change_customer"))
    agent = django_user_model.objects.create_user("nomerge")
    agent.groups.add(group)
    keep, other = _ticket(sender="+14155550100"), _ticket(sender="+14155550199", name="Max Other")
    [kept, refused] = bulk.run(agent, [keep.pk, other.pk], "merge", str(keep.pk))
    assert kept["kept"] and not refused["ok"]
    assert refused["error"] == f"#{other.pk} is another customer's: merging it needs the permission to merge customers."
    assert Ticket.objects.get(pk=other.pk).status == "new" and notes(keep) == []
    agent.user_permissions.add(Permission.objects.get(codename="change_customer"))
    agent = type(agent).objects.get(pk=agent.pk)  # fresh permission cache
    [_kept, merged] = bulk.run(agent, [keep.pk, other.pk], "merge", str(keep.pk))
    assert merged["ok"] and Ticket.objects.get(pk=other.pk).status == "closed"
    assert Ticket.objects.get(pk=other.pk).customer_id != keep.customer_id  # the people stay apart


def test_merge_refusals_are_clear(agent):
    a, b = _ticket(), _ticket(text="again")
    with pytest.raises(bulk.BulkRefused, match="Choose which of the selected tickets to keep"):
        bulk.run(agent, [a.pk, b.pk], "merge", "99999")
    with pytest.raises(bulk.BulkRefused, match="Select at least two tickets to merge"):
        bulk.run(agent, [a.pk], "merge", str(a.pk))
    services.set_status(b, "closed", actor=agent)
    [_kept, closed] = bulk.run(agent, [a.pk, b.pk], "merge", str(a.pk))
    assert closed == {"ticket": b.pk, "ok": False, "error": "Closed tickets are not merged."}
    with pytest.raises(bulk.BulkRefused, match="A closed ticket cannot take others"):
        bulk.run(agent, [a.pk, b.pk], "merge", str(b.pk))
