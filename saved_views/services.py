"""Every write of saved views, and who may make it: the owner edits and deletes; sharing with
every agent needs saved_views.share_savedview (team leads)."""

from __future__ import annotations

import json
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from saved_views.models import SavedView
from tickets import doorbell, events
from tickets.console.filters import QueueFilter

MAX_PER_AGENT = 30
# The consoles' cue to re-read the queue's views (console.js, panes.js): no data, the views are
# read again through the queue fragment, each agent's own and the shared ones.
VIEWS_CHANGED = json.dumps({"type": "notice", "app": "saved_views", "views_changed": True})


def _tell_sidebars(view: SavedView, *, shared_before: bool = False) -> None:
    """After commit, every agent's consoles when the view is (or was) shared, else its owner's
    other tabs. A lost push costs freshness only: the next queue read shows the views."""
    groups = [events.AGENTS_GROUP] if view.shared or shared_before else [events.user_group(view.owner_id)]
    transaction.on_commit(partial(doorbell.push, groups, {"type": "user.notice", "frame": VIEWS_CHANGED}))


def may_share(user) -> bool:
    return user.has_perm("saved_views.share_savedview")


def may_edit(user, view: SavedView) -> bool:
    return view.owner_id == user.pk


def _clean(name: str, shared: bool, user) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the view a name."))
    if len(name) > 80:
        raise ValidationError(_("A view's name is at most 80 characters."))
    if shared and not may_share(user):
        raise PermissionDenied(_("Only team leads may share views with every agent."))
    return name


def create(owner, *, name: str, filters: QueueFilter, shared: bool = False) -> SavedView:
    name = _clean(name, shared, owner)
    with transaction.atomic():
        if SavedView.objects.filter(owner=owner).count() >= MAX_PER_AGENT:
            raise ValidationError(_("You have %(n)s saved views already: delete one first.") % {"n": MAX_PER_AGENT})
        view = SavedView.objects.create(owner=owner, name=name, shared=shared, filters=filters.params())
        _tell_sidebars(view)
        return view


def update(view: SavedView, *, actor, name: str, shared: bool, filters: QueueFilter | None = None) -> SavedView:
    if not may_edit(actor, view):
        raise PermissionDenied(_("Only the view's owner may change it."))
    view.name = _clean(name, shared and not view.shared, actor)
    shared_before, view.shared = view.shared, shared
    if filters is not None:
        view.filters = filters.params()
    with transaction.atomic():
        view.save()
        _tell_sidebars(view, shared_before=shared_before)
    return view


def delete(view: SavedView, *, actor) -> None:
    if not may_edit(actor, view):
        raise PermissionDenied(_("Only the view's owner may delete it."))
    with transaction.atomic():
        _tell_sidebars(view)
        view.delete()
