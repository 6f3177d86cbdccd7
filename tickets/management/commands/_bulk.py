"""seed_demo's bulk mode: a large, realistic-looking dataset, fast.

Rows go straight in with executemany() in batches, with ids chosen here so foreign keys need no
read-back. No services and no events on purpose: this is a benchmark fixture, not traffic. The
full-text index keeps up by itself (its triggers fire on these inserts too)."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from tickets import search, sql
from tickets.models import Customer, Identity, Message, Team, Ticket

BATCH = 5000
FIRST = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia",
         "Edsger", "Frances", "Tim", "Hedy", "John", "Sophie", "Yukihiro", "Guido", "Anita", "Niklaus"]
LAST = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
        "Perlman", "Dijkstra", "Allen", "Berners-Lee", "Lamarr", "McCarthy", "Wilson", "Matsumoto", "Rossum"]
WORDS = ("order invoice refund shipping delivery package account password login error crash app update "
         "payment card charged twice subscription cancel upgrade plan discount coupon address phone email "
         "tracking number late broken damaged replace return label warehouse support agent thanks please "
         "hello hi question problem issue help urgent today tomorrow week month yesterday still waiting "
         "received missing wrong size colour blue red green small large receipt tax vat company business "
         "screen photo upload download file attachment link website checkout cart basket price total "
         "customer service reply soon asap great awesome terrible slow fast works doesn't can't cannot "
         "would could should maybe need want like love hate check confirm verify change reset").split()
SUBJECTS = ["Where is my order?", "Refund request", "Charged twice", "Cannot log in", "App crashes on upload",
            "Change my delivery address", "Invoice for {month}", "Discount code not working", "Damaged package",
            "Cancel my subscription", "Question about pricing", "Return label please"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]
CHANNELS = ["email", "sms", "whatsapp", "chat", "telegram", "messenger"]
STATUS_WEIGHTS = [("closed", 55), ("solved", 27), ("open", 9), ("new", 4), ("pending", 5)]


class Progress:
    """A one-line progress bar on a terminal (plain lines otherwise)."""

    def __init__(self, out, label: str, total: int):
        self.out, self.label, self.total, self.done = out, label, max(total, 1), 0
        self.started = time.perf_counter()
        self.tty = out is not None and getattr(getattr(out, "_out", out), "isatty", lambda: False)()
        self.last_line = -1

    def add(self, n: int):
        self.done += n
        if self.out is None:
            return
        share = self.done / self.total
        width = 30
        bar = "#" * int(share * width) + "-" * (width - int(share * width))
        rate = self.done / max(time.perf_counter() - self.started, 1e-6)
        line = f"{self.label:<10} [{bar}] {self.done:>9,}/{self.total:,} {rate:,.0f}/s"
        if self.tty:
            self.out.write("\r" + line, ending="")
            self.out.flush()
        elif int(share * 10) != self.last_line:  # a line every 10 % when not a terminal
            self.last_line = int(share * 10)
            self.out.write(line)

    def close(self):
        if self.out is not None and self.tty:
            self.out.write("")


class BulkSeeder:
    def __init__(self, seed: int = 1, out=None):
        self.rand = random.Random(seed)
        self.out = out
        self.now = timezone.now()
        self.dt = connection.ops.adapt_datetimefield_value
        if connection.vendor == "sqlite":  # the same text Django writes, without its per-call checks
            self.dt = lambda value: value.replace(tzinfo=None).isoformat(" ") if value is not None else None
        # Text from a pool of sentences: generating a million random ones costs more than inserting.
        self.sentences = [self._sentence(self.rand.randint(6, 40)) for _ in range(20000)]

    # -- helpers ---------------------------------------------------------------------------
    def _next_id(self, model) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def _insert(self, model, fields: tuple[str, ...], rows, progress: Progress | None = None):
        sql.bulk_insert(model, fields, rows, batch=BATCH, progress=progress)

    def _sentence(self, n: int) -> str:
        words = self.rand.choices(WORDS, k=n)
        return " ".join(words).capitalize() + "."

    # -- the dataset -------------------------------------------------------------------------
    def run(self, customers: int, tickets: int, messages: int, long_ticket: int = 200) -> dict:
        started = time.perf_counter()
        messages = max(messages, tickets)  # every ticket has at least its first message
        agents = list(get_user_model().objects.filter(is_active=True).values_list("pk", "first_name", "username"))
        teams = list(Team.objects.values_list("pk", flat=True)) or [None]
        rand = self.rand
        sql.bulk_load_started()
        if connection.vendor == "sqlite":
            # Index the text in one pass at the end: much faster than a trigger per row.
            search.suspend_triggers()

        # Customers and their identities (1-3 channels each; email for most).
        first_customer = self._next_id(Customer)
        first_identity = self._next_id(Identity)
        identity_of: dict[int, list[tuple[int, str, str]]] = {}
        customer_rows, identity_rows = [], []
        identity_id = first_identity
        names = {}
        for n in range(customers + 1):  # +1: the long ticket's customer
            cid = first_customer + n
            name = f"{rand.choice(FIRST)} {rand.choice(LAST)}"
            names[cid] = name
            customer_rows.append((cid, name, "", "", self.dt(self.now - timedelta(days=400))))
            channels = ["email"] if rand.random() < 0.8 else []
            channels += rand.sample(CHANNELS[1:], k=rand.randint(0 if channels else 1, 2))
            identity_of[cid] = []
            for channel in channels:
                if channel == "email":
                    address = f"{name.split()[0].lower()}.{cid}@example.com"
                elif channel in ("sms", "whatsapp"):
                    address = f"+1415{cid:07d}"
                else:
                    address = f"{channel}-{cid}"
                identity_rows.append((identity_id, cid, channel, address, name, True, "{}",
                                      self.dt(self.now - timedelta(days=400))))
                identity_of[cid].append((identity_id, channel, address))
                identity_id += 1
        progress = Progress(self.out, "customers", len(customer_rows))
        self._insert(Customer, ("id", "name", "organisation", "notes", "created_at"), customer_rows, progress)
        progress.close()
        progress = Progress(self.out, "identities", len(identity_rows))
        self._insert(Identity, ("id", "customer_id", "channel", "address", "display_name", "verified",
                                          "meta", "created_at"), identity_rows, progress)
        progress.close()

        # How many messages each ticket gets: at least one, the rest spread at random.
        counts = [1] * tickets
        for _ in range(messages - tickets):
            counts[rand.randrange(tickets)] += 1
        long_customer = first_customer + customers
        counts.append(max(long_ticket, 1))
        statuses, weights = zip(*STATUS_WEIGHTS, strict=True)

        first_ticket = self._next_id(Ticket)
        first_message = self._next_id(Message)
        ticket_rows, message_rows = [], []
        message_id = first_message
        for n, count in enumerate(counts):
            tid = first_ticket + n
            is_long = n == tickets
            cid = long_customer if is_long else first_customer + rand.randrange(customers)
            identity = rand.choice(identity_of[cid])
            status = "open" if is_long else rand.choices(statuses, weights)[0]
            created = self.now - timedelta(minutes=rand.randint(60, 60 * 24 * 365))
            if status in ("new", "open", "pending"):  # active tickets are recent
                created = self.now - timedelta(minutes=rand.randint(count * 3 + 5, 60 * 24 * 14))
            subject = "Long conversation (benchmark)" if is_long else rand.choice(SUBJECTS).format(
                month=rand.choice(MONTHS))
            at = created
            last_inbound_at = None
            last_direction = "inbound"
            for m in range(count):
                direction = "inbound" if m == 0 or rand.random() < 0.5 else "outbound"
                if status == "new":
                    direction = "inbound"
                at = at + timedelta(seconds=rand.randint(20, 180) if is_long else rand.randint(60, 3600))
                if direction == "inbound":
                    last_inbound_at = at
                    row = (message_id, tid, cid, "inbound", identity[1], identity[1], identity[0], None, names[cid],
                           subject if m == 0 else "", rand.choice(self.sentences), "",
                           f"seed-{message_id}", None, "received", "", "", self.dt(at), "{}")
                else:
                    agent = rand.choice(agents) if agents else (None, "Agent", "agent")
                    delivery = rand.choices(["delivered", "read", "sent", "failed"], [50, 35, 12, 3])[0]
                    row = (message_id, tid, cid, "outbound", identity[1], identity[1], identity[0], agent[0],
                           agent[1] or agent[2], "", rand.choice(self.sentences), "", None, None,
                           delivery, "30003" if delivery == "failed" else "",
                           "Unreachable destination handset" if delivery == "failed" else "", self.dt(at), "{}")
                message_rows.append(row)
                last_direction = direction
                message_id += 1
            waiting = last_direction == "inbound" and status in ("new", "open")
            assignee = None if status == "new" or rand.random() < 0.3 or not agents else rand.choice(agents)[0]
            ticket_rows.append((tid, cid, subject, status, rand.choices([0, 1, 2, 3], [10, 70, 15, 5])[0],
                                assignee, rand.choice(teams), identity[1], self.dt(created), self.dt(at),
                                self.dt(created + timedelta(minutes=30)) if count > 1 else None,
                                self.dt(last_inbound_at) if last_inbound_at else None,
                                self.dt(last_inbound_at) if waiting else None, json.dumps({"seed": "long"} if is_long else {}),
                                identity[1]))  # inbox: the channel's default inbox
            if len(message_rows) >= BATCH * 4:
                yield_rows, message_rows = message_rows, []
                self._flush_messages(ticket_rows, yield_rows, messages + long_ticket)
                ticket_rows = []
        self._flush_messages(ticket_rows, message_rows, messages + long_ticket)
        if self._message_progress is not None:
            self._message_progress.close()
        if connection.vendor == "sqlite":
            if self.out is not None:
                self.out.write("indexing text for search…")
            search.ensure_index(using=connection.alias)
        sql.bulk_load_finished([Customer, Identity, Ticket, Message])
        return {"customers": customers + 1, "tickets": tickets + 1, "messages": message_id - first_message,
                "long_ticket": first_ticket + tickets, "seconds": time.perf_counter() - started}

    _message_progress: Progress | None = None

    def _flush_messages(self, ticket_rows, message_rows, total):
        if self._message_progress is None:
            self._message_progress = Progress(self.out, "messages", total)
        self._insert(Ticket, ("id", "customer_id", "subject", "status", "priority", "assignee_id", "team_id",
                                        "channel", "created_at", "updated_at", "first_response_at",
                                        "last_customer_message_at", "waiting_since", "meta", "inbox"), ticket_rows)
        self._insert(Message, ("id", "ticket_id", "customer_id", "direction", "channel", "adapter",
                                         "identity_id", "author_id", "author_name", "subject", "text", "html",
                                         "external_id", "client_id", "status", "error_code", "error_message",
                                         "created_at", "meta"), message_rows, self._message_progress)

