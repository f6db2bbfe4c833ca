"""Domain model (DESIGN.md §4), SQLAlchemy 2 typed mappings."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (stored naive-safe by SQLAlchemy)."""
    return datetime.now(UTC)


class Challenge(enum.StrEnum):
    territorial = "territorial"
    creative = "creative"
    prototyping = "prototyping"


class WorkshopKind(enum.StrEnum):
    starter = "starter"
    booster = "booster"


class EventStatus(enum.StrEnum):
    draft = "draft"
    live = "live"
    closed = "closed"


class ActorCategory(enum.StrEnum):
    citizen = "citizen"
    business = "business"
    local_authority = "local_authority"
    association = "association"
    research = "research"
    student = "student"
    other = "other"


class IdeaKind(enum.StrEnum):
    need = "need"
    idea = "idea"
    resource = "resource"
    question = "question"


def _enum(cls: type[enum.Enum]) -> SAEnum:
    # Stored as plain strings (no native enum type): adding a value later
    # needs no database-specific migration.
    return SAEnum(cls, native_enum=False, length=32, validate_strings=True)


organizer_territories = db.Table(
    "organizer_territories",
    Column("organizer_id", ForeignKey("organizers.id", ondelete="CASCADE"), primary_key=True),
    Column("territory_id", ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True),
)


class Territory(db.Model):
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    population: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organizers: Mapped[list[Organizer]] = relationship(
        secondary=organizer_territories, back_populates="territories"
    )
    events: Mapped[list[Event]] = relationship(back_populates="territory")


class Organizer(UserMixin, db.Model):
    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    territories: Mapped[list[Territory]] = relationship(
        secondary=organizer_territories, back_populates="organizers"
    )


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.draft)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    territory: Mapped[Territory] = relationship(back_populates="events")
    tables: Mapped[list[Table]] = relationship(
        back_populates="event", order_by="Table.number", cascade="all, delete-orphan"
    )


class Table(db.Model):
    """One workshop table (*atelier*) of an event."""

    __tablename__ = "tables"
    __table_args__ = (UniqueConstraint("event_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    challenge: Mapped[Challenge] = mapped_column(_enum(Challenge))
    workshop_kind: Mapped[WorkshopKind] = mapped_column(
        _enum(WorkshopKind), default=WorkshopKind.starter
    )
    brief_title: Mapped[str] = mapped_column(String(200), default="")
    brief: Mapped[str] = mapped_column(Text, default="")
    facilitator_name: Mapped[str] = mapped_column(String(200), default="")
    facilitator_secret: Mapped[str] = mapped_column(String(64), unique=True)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    # The participant who writes up and presents the table's result.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", use_alter=True, ondelete="SET NULL")
    )
    # Last sequence number handed out for this table's live items (DESIGN §6).
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    event: Mapped[Event] = relationship(back_populates="tables")
    participants: Mapped[list[Participant]] = relationship(
        back_populates="table",
        foreign_keys="Participant.table_id",
        order_by="Participant.id",
        cascade="all, delete-orphan",
    )
    reporter: Mapped[Participant | None] = relationship(
        foreign_keys=[reporter_id], post_update=True
    )
    ideas: Mapped[list[Idea]] = relationship(back_populates="table", cascade="all, delete-orphan")


class Participant(db.Model):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(60))
    category: Mapped[ActorCategory] = mapped_column(_enum(ActorCategory))
    brings: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only a hash is kept: a leaked database does not let anyone post as them.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    table: Mapped[Table] = relationship(back_populates="participants", foreign_keys=[table_id])


class Idea(db.Model):
    """A card on a table's wall.

    ``seq`` is the table sequence number of the idea's latest change (post,
    edit, hide, delete): a client that has seen everything up to N catches up
    by asking for ideas with ``seq > N``. Deleted ideas stay as tombstones so
    that catch-up can tell clients to remove them.
    """

    __tablename__ = "ideas"
    __table_args__ = (
        UniqueConstraint("participant_id", "client_id"),
        UniqueConstraint("table_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IdeaKind] = mapped_column(_enum(IdeaKind), default=IdeaKind.idea)
    text: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    table: Mapped[Table] = relationship(back_populates="ideas")
    author: Mapped[Participant | None] = relationship()


class JournalEntry(db.Model):
    """Append-only history of changes that matter (who, what, when)."""

    __tablename__ = "journal"
    # Looked up by action and subject (failed sign-ins of one address).
    __table_args__ = (Index("ix_journal_action_subject_at", "action", "subject", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(100), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
