"""Domain model (DESIGN.md §4), SQLAlchemy 2 typed mappings."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .extensions import db


def utcnow() -> datetime:
    """Current time, timezone-aware UTC, from the server's one clock."""
    return clock.now()


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
    not_said = "not_said"  # the participant preferred not to say


class IdeaKind(enum.StrEnum):
    need = "need"
    idea = "idea"
    resource = "resource"
    feature = "feature"
    question = "question"


class CommitRole(enum.StrEnum):
    """What a participant commits to (interest alignment, DESIGN.md §5 step 7)."""

    carry = "carry"
    contribute = "contribute"
    follow = "follow"


class StepKind(enum.StrEnum):
    """The steps of the method (DESIGN.md §5)."""

    intro = "intro"
    brief = "brief"
    diverge = "diverge"
    cluster = "cluster"
    vote = "vote"
    sheet = "sheet"
    commit = "commit"
    plenary = "plenary"


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
    # The backlog's rules for this territory: expected days per stage (empty: defaults).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
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

    # Not stored: the sign-in (OrganizerSession) this object was loaded for.
    # Flask-Login keeps it in the session and remember-me cookies, so that
    # signing out ends that sign-in on the server, in every process.
    session_token = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"


class OrganizerSession(db.Model):
    """One sign-in of an organizer (one browser); only a hash of its token is
    kept. Deleted at sign-out, so a copied cookie stops working."""

    __tablename__ = "organizer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        ForeignKey("organizers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    date: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.draft)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    # The language the evening is run in: its tables' default scripts are
    # written in it, whatever the language of each screen's interface.
    language: Mapped[str] = mapped_column(String(8), default="fr", server_default="fr")
    # What the projector shows in plenary: mode (off, table, cloud), the table
    # shown, automatic turns (seconds) and since when (DESIGN.md §5, step 8).
    plenary: Mapped[dict] = mapped_column(JSON, default=dict)
    # The evening's own stream (its themes, the room's vote, the synthesis
    # desk): the number of its latest change, as a table's ``last_seq``.
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The room-wide vote on the evening's themes (issue 18, item 4): state
    # (open, closed), mode (dots, ranking), budget, the themes voted on as
    # they were when it opened, and once closed its results.
    room_vote: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
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
    # The table's live state (current step, timer, reporter, display) is one
    # live entity: ``state_seq`` is the sequence number of its latest change.
    state_seq: Mapped[int] = mapped_column(Integer, default=0)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("steps.id", use_alter=True, ondelete="SET NULL")
    )
    # The running step's timer: its end instant, or (paused) the seconds left.
    timer_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timer_left: Mapped[int | None] = mapped_column(Integer)
    # Authors' names hidden from the other phones (still stored for moderation).
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # For the organizers' control room: the table's latest live change, the
    # last time a server saw its console connected, the organizers' message.
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    console_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    console_message: Mapped[str] = mapped_column(String(300), default="")
    console_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
    votes: Mapped[list[Vote]] = relationship(cascade="all, delete-orphan")
    clusters: Mapped[list[Cluster]] = relationship(cascade="all, delete-orphan")
    sheet_fields: Mapped[list[SheetField]] = relationship(cascade="all, delete-orphan")
    commitments: Mapped[list[Commitment]] = relationship(cascade="all, delete-orphan")
    steps: Mapped[list[Step]] = relationship(
        back_populates="table",
        foreign_keys="Step.table_id",
        order_by="Step.position",
        cascade="all, delete-orphan",
    )
    step: Mapped[Step | None] = relationship(foreign_keys=[step_id], post_update=True)


class Step(db.Model):
    """One step of a table's script: what the table does, asks and for how long."""

    __tablename__ = "steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[StepKind] = mapped_column(_enum(StepKind))
    title: Mapped[str] = mapped_column(String(200))
    # The question the table answers at this step, shown on every phone.
    prompt: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[int] = mapped_column(Integer, default=600)  # seconds
    # Per kind: card kinds, private until reveal, votes per person…
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    table: Mapped[Table] = relationship(back_populates="steps", foreign_keys=[table_id])


class Participant(db.Model):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(60))
    category: Mapped[ActorCategory] = mapped_column(_enum(ActorCategory))
    brings: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # The introduction round: who I am, what I expect ("brings" is above).
    intro: Mapped[str] = mapped_column(String(300), default="")
    expects: Mapped[str] = mapped_column(String(300), default="")
    # Table sequence number of the latest change (join, introduction).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    # Only a hash is kept: a leaked database does not let anyone post as them.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Taken off the table by its facilitator (a seat filled by a script, a
    # duplicate): their token opens nothing any more; what they wrote stays.
    removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Under the territory's age of minors (15 by default), said when joining:
    # no contact, never named in a team or an export, unless an organizer
    # records that a parent consented (who, when).
    minor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    guardian_consent_by: Mapped[str] = mapped_column(String(200), default="", server_default="")
    guardian_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
    # Every index is written at every post (a hundred a second in a hall):
    # a table's and an author's ideas are found through the two unique
    # constraints, which start with those columns; only the few grouped
    # ideas are in the clusters' index.
    __table_args__ = (
        UniqueConstraint("participant_id", "client_id"),
        UniqueConstraint("table_id", "seq"),
        Index(
            "ix_ideas_cluster_id",
            "cluster_id",
            sqlite_where=sql_text("cluster_id IS NOT NULL"),
            postgresql_where=sql_text("cluster_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"))
    # A phone's card is its own write receipt: (author, client id) is unique.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    client_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IdeaKind] = mapped_column(_enum(IdeaKind), default=IdeaKind.idea)
    text: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Posted in a private diverge step: only its author and the facilitator
    # see it until the facilitator reveals the step's ideas.
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id", ondelete="SET NULL"))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    table: Mapped[Table] = relationship(back_populates="ideas")
    author: Mapped[Participant | None] = relationship()


class Cluster(db.Model):
    """A named group of a table's cards, made by the facilitator."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Theme(db.Model):
    """A theme of the evening's synthesis: what several tables' ideas share,
    named by the synthesis team (issue 18). A live entity of the evening's
    stream. ``suggested``: proposed by the app (``created_by`` "app"), not
    yet taken up by a person; ``version`` counts its edits, so that no one
    silently overwrites another's (as a sheet's fields)."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    # The ideas it gathers (their tables follow): where the theme came from.
    idea_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Ideas the team chose to quote first (to the room), among its ideas.
    pinned: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    suggested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(40))  # an actor's key, or "app"
    accepted_by: Mapped[str] = mapped_column(String(40), default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApartPair(db.Model):
    """Two ideas the app found alike that the synthesis team said are not
    the same (issue 18): its hint is shown to none of the team any more.
    A live entity of the evening's stream; ``apart`` false when a member
    takes it back. ``idea_a`` < ``idea_b``: one row per pair."""

    __tablename__ = "apart_pairs"
    __table_args__ = (UniqueConstraint("event_id", "idea_a", "idea_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    idea_a: Mapped[int] = mapped_column(ForeignKey("ideas.id"))
    idea_b: Mapped[int] = mapped_column(ForeignKey("ideas.id"))
    apart: Mapped[bool] = mapped_column(Boolean, default=True)
    said_by: Mapped[str] = mapped_column(String(40))  # the actor's key of the last change
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoomBallot(db.Model):
    """A participant's ballot in the room-wide vote on the evening's themes:
    points per theme (dots given, or points for a ranking), replaced whole
    by each vote of theirs. A live entity of their table's stream that only
    its owner sees."""

    __tablename__ = "room_ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), unique=True
    )
    points: Mapped[dict] = mapped_column(JSON, default=dict)  # theme id (text) -> points
    # The vote it belongs to (its opening time, ms): a vote opened again
    # starts from empty ballots.
    vote: Mapped[int] = mapped_column(BigInteger, default=0)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeskLink(db.Model):
    """A secret link to an evening's synthesis desk (issue 18), for a member
    of its theme team without an account. Only the link's hash is kept;
    revoking it closes the link and the screens opened with it."""

    __tablename__ = "desk_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SheetField(db.Model):
    """One field of the table's sheet (its structured result).

    ``version`` counts the field's edits: an edit based on an older version
    is refused, so that no one silently overwrites someone else's text.
    """

    __tablename__ = "sheet_fields"
    __table_args__ = (UniqueConstraint("table_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=0)
    edited_by: Mapped[str] = mapped_column(String(80), default="")
    # Who has the field open right now (shown to the others), and since when.
    editing_by: Mapped[str] = mapped_column(String(80), default="")
    editing_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Commitment(db.Model):
    """A participant's commitment to the table's result: carry, contribute or
    be kept informed, with what they bring, expect and can give (hours)."""

    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("table_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    role: Mapped[CommitRole] = mapped_column(_enum(CommitRole))
    contribution: Mapped[str] = mapped_column(String(300), default="")
    expects: Mapped[str] = mapped_column(String(300), default="")
    hours_per_month: Mapped[int | None] = mapped_column(Integer)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Vote(db.Model):
    """One dot of a dot vote: a participant's vote for a card in a vote step.

    Taking a vote back keeps the row (``active`` false) with a new sequence
    number, so that every screen learns it.
    """

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_step_participant", "step_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Write(db.Model):
    """The receipt of one live write (DESIGN.md §6): a resend of the same
    (actor, client id) is answered from here and changes nothing again.

    ``actor`` names who wrote: ``p:<participant>``, ``f:<table>`` (the
    facilitator of a table) or ``o:<organizer>``. ``refs`` lists the live
    entities the write changed, to answer a resend with their current state.
    """

    __tablename__ = "writes"
    __table_args__ = (UniqueConstraint("actor", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(64))
    # None for an organizer's write to the whole evening (the plenary).
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), index=True
    )
    op: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int | None] = mapped_column(Integer)
    refs: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JournalEntry(db.Model):
    """Append-only history of changes that matter (who, what, when)."""

    __tablename__ = "journal"
    # Looked up by action and subject (failed sign-ins of one address).
    # Looked up by subject (a project's history: "project:<id>").
    __table_args__ = (
        Index("ix_journal_action_subject_at", "action", "subject", "at"),
        Index("ix_journal_subject_at", "subject", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(100), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- after the evening: the backlog (DESIGN.md §8) -----------------------------------


class ProjectStage(enum.StrEnum):
    """The method's stages, from a raw idea to duplication elsewhere."""

    d0 = "d0"  # raw idea
    d1 = "d1"  # problem qualified
    d2 = "d2"  # opportunity qualified
    d3 = "d3"  # prototype
    d4 = "d4"  # launch
    d5 = "d5"  # duplication


class ProjectStatus(enum.StrEnum):
    active = "active"
    paused = "paused"
    abandoned = "abandoned"
    launched = "launched"


class CarrierStatus(enum.StrEnum):
    none = "none"
    sought = "sought"
    found = "found"
    collective = "collective"


class Project(db.Model):
    """A candidate project of the backlog: a table's result, a promoted idea
    or a theme of the evening's synthesis.

    ``table_id``, ``idea_id`` and ``theme_id`` are unique: promoting the same result twice
    finds the project made the first time. ``stage_since`` is when it entered
    its stage (its age on the board); ``sheet`` is its sheet as it stands, a
    copy of the table's at the evening, frozen per stage in its snapshots.
    """

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="SET NULL"), unique=True
    )
    idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="SET NULL"), unique=True
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    # A theme of the evening's synthesis made a project (issue 18, item 5).
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="SET NULL"), unique=True
    )
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(200), default="")
    challenge: Mapped[Challenge | None] = mapped_column(_enum(Challenge))
    stage: Mapped[ProjectStage] = mapped_column(_enum(ProjectStage))
    stage_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[ProjectStatus] = mapped_column(
        _enum(ProjectStatus), default=ProjectStatus.active
    )
    carrier_status: Mapped[CarrierStatus] = mapped_column(
        _enum(CarrierStatus), default=CarrierStatus.none
    )
    owner: Mapped[str] = mapped_column(String(200), default="")
    sheet: Mapped[list] = mapped_column(JSON, default=list)  # [{"key", "text"}]
    # The gate items ticked, per stage: {"d2": {"opportunity": {"by", "at"}}}.
    gate_ticks: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    territory: Mapped[Territory] = relationship()
    event: Mapped[Event | None] = relationship()
    table: Mapped[Table | None] = relationship()
    members: Mapped[list[ProjectMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectMember.id"
    )
    ideas: Mapped[list[ProjectIdea]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectIdea.position"
    )
    snapshots: Mapped[list[ProjectSnapshot]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectSnapshot.id"
    )
    actions: Mapped[list[ProjectAction]] = relationship(
        cascade="all, delete-orphan",
        order_by="(ProjectAction.done_at.is_not(None), ProjectAction.due, ProjectAction.id)",
    )
    notes: Mapped[list[ProjectNote]] = relationship(
        cascade="all, delete-orphan", order_by="ProjectNote.at.desc()"
    )
    outcomes: Mapped[list[ProjectOutcome]] = relationship(
        cascade="all, delete-orphan", order_by="(ProjectOutcome.as_of, ProjectOutcome.id)"
    )
    # The baseline: the day support started (the project's creation unless
    # changed) and who recorded it. Jobs that started before it were there
    # already: no funder counts them as the project's outcome.
    baseline_on: Mapped[date] = mapped_column(Date, default=lambda: clock.now().date())
    baseline_by: Mapped[str] = mapped_column(String(200), default="")
    jobs: Mapped[list[JobLine]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(JobLine.start_date, JobLine.id)",
    )
    funding_requests: Mapped[list[FundingRequest]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(FundingRequest.requested_on, FundingRequest.id)",
    )


class ProjectMember(db.Model):
    """One person of a project's team: from a commitment at the evening, or
    added later. Contact details are kept only with consent."""

    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[ActorCategory | None] = mapped_column(_enum(ActorCategory))
    role: Mapped[CommitRole] = mapped_column(_enum(CommitRole))
    brings: Mapped[str] = mapped_column(Text, default="")
    expects: Mapped[str] = mapped_column(Text, default="")
    hours_per_month: Mapped[int | None] = mapped_column(Integer)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    contact: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="members")


class ProjectIdea(db.Model):
    """An idea a project came from (a table's most voted cards, or the one
    promoted), with its votes and text as they were then."""

    __tablename__ = "project_ideas"
    __table_args__ = (UniqueConstraint("project_id", "idea_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    votes: Mapped[int] = mapped_column(Integer, default=0)

    project: Mapped[Project] = relationship(back_populates="ideas")


class ProjectSnapshot(db.Model):
    """A project's sheet and title frozen when it entered a stage."""

    __tablename__ = "project_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[ProjectStage] = mapped_column(_enum(ProjectStage))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    sheet: Mapped[list] = mapped_column(JSON, default=list)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="snapshots")


class ProjectAction(db.Model):
    """A follow-up action of a project: what, who, by when, done or not."""

    __tablename__ = "project_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    what: Mapped[str] = mapped_column(String(500))
    who: Mapped[str] = mapped_column(String(200), default="")
    due: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectNote(db.Model):
    """A dated note on a project (a meeting, a call, a lead)."""

    __tablename__ = "project_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutcomeKind(enum.StrEnum):
    """The outcome figures funders ask for (DESIGN.md §8). Jobs are not one
    figure but lines of their own (``JobLine``)."""

    revenue = "revenue"  # euros per year
    partners = "partners"
    funding = "funding"  # euros obtained


class ProjectOutcome(db.Model):
    """One declared outcome figure, as of a date, with who declared it and
    whether it was checked. The baseline is recorded when the project is made."""

    __tablename__ = "project_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutcomeKind] = mapped_column(_enum(OutcomeKind))
    value: Mapped[float] = mapped_column(Float)
    as_of: Mapped[date] = mapped_column(Date)
    declared_by: Mapped[str] = mapped_column(String(200))
    baseline: Mapped[bool] = mapped_column(Boolean, default=False)
    checked: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobKind(enum.StrEnum):
    created = "created"
    consolidated = "consolidated"  # an existing job kept thanks to the project


class ContractType(enum.StrEnum):
    cdi = "cdi"  # open-ended
    cdd = "cdd"  # fixed-term
    apprenticeship = "apprenticeship"
    self_employed = "self_employed"
    other = "other"


class Employment(enum.StrEnum):
    employee = "employee"
    self_employed = "self_employed"


class JobLine(db.Model):
    """One job of a project, as declared: created or consolidated, its FTE,
    contract and start date, who declared it and when, who checked it and
    on what evidence. Volunteers may be recorded but are no job for any
    funder. A ``migrated`` line carries a project's jobs figure declared
    before lines existed (``migrated_from``: those figures, as they were)."""

    __tablename__ = "project_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind))
    fte: Mapped[float] = mapped_column(Float)
    contract: Mapped[ContractType] = mapped_column(_enum(ContractType))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    employment: Mapped[Employment | None] = mapped_column(_enum(Employment))  # None: not said
    volunteer: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    declared_by: Mapped[str] = mapped_column(String(200))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_by: Mapped[str] = mapped_column(String(200), default="")
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evidence: Mapped[str] = mapped_column(Text, default="")
    migrated: Mapped[bool] = mapped_column(Boolean, default=False)
    migrated_from: Mapped[list | None] = mapped_column(JSON)

    project: Mapped[Project] = relationship(back_populates="jobs")


class Decision(enum.StrEnum):
    pending = "pending"
    granted = "granted"
    refused = "refused"


class FundingRequest(db.Model):
    """An aid request of a project to a funder: how much, when asked, what
    was decided and when, and when the project started (most public aid,
    LEADER's first, must be asked before the project starts)."""

    __tablename__ = "project_funding_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    funder: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[float] = mapped_column(Float)  # euros asked
    requested_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[Decision] = mapped_column(_enum(Decision), default=Decision.pending)
    decided_on: Mapped[date | None] = mapped_column(Date)
    project_start: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="funding_requests")

    @property
    def started_before_request(self) -> bool:
        """The project started before its aid was asked (LEADER refuses it)."""
        return self.project_start is not None and self.project_start < self.requested_on


class Verdict(enum.StrEnum):
    go = "go"
    conditional = "conditional"  # go, with conditions
    no_go = "no_go"


class Reviewer(db.Model):
    """A local entrepreneur who gives opinions on projects, by a secret link
    (no account). Only the link's hash is kept; revoking it closes the link."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Review(db.Model):
    """A reviewer's invitation to one project and, once given, their opinion."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("reviewer_id", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    verdict: Mapped[Verdict | None] = mapped_column(_enum(Verdict))
    comment: Mapped[str] = mapped_column(Text, default="")
    invited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    given_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    reviewer: Mapped[Reviewer] = relationship()
    project: Mapped[Project] = relationship()
