"""Clusters (DESIGN.md §5, step 4): the facilitator groups the table's cards
into named groups, renames, merges and splits them; every phone sees the
groups live (a card's group is part of the card)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Cluster, Idea, Table
from . import ServiceError
from .changes import touch
from .inputs import bad_request, clean_text, integer
from .writes import MODERATORS, Request, op

MAX_NAME = 120
MAX_CLUSTERS = 50


def _cluster(table: Table, cluster_id) -> Cluster:
    cluster_id = integer(cluster_id)
    cluster = db.session.get(Cluster, cluster_id) if cluster_id else None
    if cluster is None or cluster.table_id != table.id or cluster.deleted:
        raise ServiceError("not_found", _l("This group does not exist (any more)."))
    return cluster


def _card(table: Table, idea_id) -> Idea:
    idea_id = integer(idea_id)
    idea = db.session.get(Idea, idea_id) if idea_id else None
    if idea is None or idea.table_id != table.id or idea.deleted:
        raise ServiceError("not_found", _l("This idea does not exist (any more)."))
    return idea


def _cards_of(cluster: Cluster) -> list[Idea]:
    return list(db.session.scalars(select(Idea).where(Idea.cluster_id == cluster.id)))


def _move(idea: Idea, cluster: Cluster | None) -> None:
    new_id = cluster.id if cluster else None
    if idea.cluster_id != new_id:
        idea.cluster_id = new_id
        touch(idea)


def _new_cluster(table: Table, name) -> Cluster:
    name = clean_text(name, MAX_NAME)
    count = db.session.scalar(
        select(func.count(Cluster.id)).where(
            Cluster.table_id == table.id, Cluster.deleted.is_(False)
        )
    )
    if count >= MAX_CLUSTERS:
        raise ServiceError("too_many_groups", _l("A table has at most 50 groups."))
    cluster = Cluster(table_id=table.id, name=name, position=count)
    db.session.add(cluster)
    touch(cluster)
    return cluster


@op("cluster.create", *MODERATORS)
def create(req: Request) -> None:
    """A new named group, optionally with cards moved into it at once."""
    cluster = _new_cluster(req.actor.table, req.data.get("name"))
    db.session.flush()
    for idea_id in _idea_ids(req):
        _move(_card(req.actor.table, idea_id), cluster)


def _idea_ids(req: Request) -> list:
    ids = req.data.get("idea_ids", [])
    if not isinstance(ids, list) or len(ids) > 500:
        raise bad_request()
    return ids


@op("cluster.rename", *MODERATORS)
def rename(req: Request) -> None:
    cluster = _cluster(req.actor.table, req.data.get("id"))
    name = clean_text(req.data.get("name"), MAX_NAME)
    if cluster.name != name:
        cluster.name = name
        touch(cluster)


@op("cluster.assign", *MODERATORS)
def assign(req: Request) -> None:
    """Put a card in a group (drag and drop, or keyboard); null takes it out."""
    table = req.actor.table
    wanted = req.data.get("cluster_id")
    cluster = None if wanted is None else _cluster(table, wanted)
    _move(_card(table, req.data.get("idea_id")), cluster)


@op("cluster.merge", *MODERATORS)
def merge(req: Request) -> None:
    """Move every card of one group into another, and remove the first."""
    table = req.actor.table
    source = _cluster(table, req.data.get("id"))
    target = _cluster(table, req.data.get("into"))
    if source.id == target.id:
        raise bad_request()
    for idea in _cards_of(source):
        _move(idea, target)
    source.deleted = True
    touch(source)


@op("cluster.split", *MODERATORS)
def split(req: Request) -> None:
    """Take some cards of a group into a new group."""
    table = req.actor.table
    source = _cluster(table, req.data.get("id"))
    cards = [_card(table, idea_id) for idea_id in _idea_ids(req)]
    if not cards or any(card.cluster_id != source.id for card in cards):
        raise ServiceError("bad_split", _l("Choose cards of this group to split it."))
    cluster = _new_cluster(table, req.data.get("name"))
    db.session.flush()
    for card in cards:
        _move(card, cluster)


@op("cluster.delete", *MODERATORS)
def delete(req: Request) -> None:
    """Remove a group; its cards stay on the wall, ungrouped."""
    cluster = _cluster(req.actor.table, req.data.get("id"))
    for idea in _cards_of(cluster):
        _move(idea, None)
    cluster.deleted = True
    touch(cluster)
