"""Stored pictures for export and erasure (a HELPDESK_PERSONAL_DATA_PROVIDERS entry): the
export carries the files themselves; erasure deletes the rows now and the files after commit
(a rolled-back erasure leaves them readable). Runs before the domain erasure deletes the
identities (and with them Identity.meta["avatar_url"])."""

import os

from django.core.files.storage import default_storage
from django.db import transaction

from customer_pictures.fetching import delete_files
from customer_pictures.models import Picture


class Pictures:
    label = "pictures"

    def export(self, customer) -> dict:
        rows = list(Picture.objects.filter(identity__customer=customer).exclude(file="")
                    .select_related("identity").order_by("pk"))
        files, listed = {}, []
        for row in rows:
            name = f"{row.identity.channel}-{row.identity_id}{os.path.splitext(row.file)[1]}"
            try:
                with default_storage.open(row.file, "rb") as handle:
                    files[name] = handle.read()
            except FileNotFoundError:
                name = None
            listed.append({"identity": row.identity_id, "channel": row.identity.channel, "file": name,
                           "content_type": row.content_type,
                           "checked_at": row.checked_at.isoformat() if row.checked_at else None})
        return {"pictures": listed, "files": files}

    def erase(self, customer) -> int:
        rows = Picture.objects.filter(identity__customer=customer)
        names = [name for name in rows.values_list("file", flat=True) if name]
        deleted = rows.delete()[0]
        transaction.on_commit(lambda: delete_files(names), robust=True)
        return deleted
