"""The plenary (DESIGN.md §5, step 8): the projector shows each table's
result in turn — its challenge, its top-voted cards, its reporter — or the
evening's word cloud; outside the plenary it shows how to join.

The organizers steer it with one event-wide write (``plenary.show``). Timed
turns are computed from server time by every projector alike: the table
shown is the one whose turn it is since ``since``, every ``auto`` seconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Commitment, Event, Idea, SheetField, Step, StepKind, Table, Theme
from ..rooms import organizers_room, projector_room
from . import ServiceError, control, sheet_template
from .changes import pinned_quotes, push_after_commit, room_vote_view
from .inputs import bad_request, integer
from .writes import Request, op

MODES = ("off", "table", "cloud", "themes", "room_vote")
TOP_CARDS = 5
QUOTES = 3  # a theme's ideas quoted on the projector
CLOUD_WORDS = 40
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Words that say nothing about an idea, in French and English (compared folded).
_STOP_WORDS = (
    "a afin ainsi alors au aucun aussi autre autres aux avec avoir c ca car ce cela celle "
    "celles celui ces cet cette chaque chez comme comment dans de des deja depuis donc dont "
    "du elle elles en encore entre est et etre eu faire fait faut il ils j je l la le les "
    "leur leurs lui m ma mais me meme mes moi moins mon n ne ni nos notre nous on ont ou par "
    "pas pendant peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui quoi "
    "s sa sans se ses si sien son sont sous sur ta te tes toi ton tous tout toute toutes tres "
    "tu un une vers voir vos votre vous y "
    "about after all also an and any are as at be been but by can could do does for from had "
    "has have how if in into is it its more most no not of on one or other our out over so "
    "some such than that the their them then there these they this those to too up us very "
    "was we were what when where which while who why will with would you your"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())


def fold(word: str) -> str:
    """A word without case or accents, to count "Énergie" and "energie" once."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def word_cloud(event: Event, limit: int = CLOUD_WORDS) -> list[list]:
    """The evening's most frequent words, as ``[word, count]``, accents kept."""
    texts = db.session.scalars(
        select(Idea.text)
        .join(Table, Table.id == Idea.table_id)
        .where(
            Table.event_id == event.id,
            Idea.deleted.is_(False),
            Idea.hidden.is_(False),
            Idea.private.is_(False),
        )
    )
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for word in WORD.findall(text):
            key = fold(word)
            if len(key) < 3 or key in STOP_WORDS:
                continue
            counts[key] += 1
            spellings[key][word.lower()] += 1
    return [[spellings[key].most_common(1)[0][0], n] for key, n in counts.most_common(limit)]


def top_cards(event: Event) -> dict[int, list[dict]]:
    """Each table's most voted cards (id, text, kind, votes), from its latest
    closed vote."""
    results: dict[int, dict[str, int]] = {}
    vote_steps = db.session.scalars(
        select(Step)
        .join(Table, Table.id == Step.table_id)
        .where(Table.event_id == event.id, Step.kind == StepKind.vote)
        .order_by(Step.position)
    )
    for step in vote_steps:
        if (step.settings or {}).get("state") == "closed":
            results[step.table_id] = step.settings.get("results") or {}
    wanted = {int(idea_id) for tally in results.values() for idea_id in tally}
    ideas = {
        idea.id: idea
        for idea in db.session.scalars(select(Idea).where(Idea.id.in_(wanted)))
        if not (idea.deleted or idea.hidden)
    }
    top: dict[int, list[dict]] = {}
    for table_id, tally in results.items():
        ranked = sorted(
            ((n, int(idea_id)) for idea_id, n in tally.items() if int(idea_id) in ideas),
            key=lambda pair: (-pair[0], pair[1]),
        )
        top[table_id] = [
            {
                "id": idea_id,
                "text": ideas[idea_id].text,
                "kind": ideas[idea_id].kind.value,
                "votes": n,
            }
            for n, idea_id in ranked[:TOP_CARDS]
        ]
    return top


def sheet_texts(event: Event) -> dict[int, dict[str, str]]:
    """Each table's sheet, field key -> text."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    rows = db.session.execute(
        select(SheetField.table_id, SheetField.key, SheetField.text)
        .join(Table, Table.id == SheetField.table_id)
        .where(Table.event_id == event.id)
    )
    for table_id, key, text in rows:
        found[table_id][key] = text
    return found


def _commitments(event: Event) -> Counter[int]:
    return Counter(
        db.session.scalars(
            select(Commitment.table_id)
            .join(Table, Table.id == Commitment.table_id)
            .where(Table.event_id == event.id, Commitment.withdrawn.is_(False))
        )
    )


def room_themes(event: Event) -> list[dict]:
    """The team's themes as the room sees them (issue 18, item 4): label,
    how many tables and ideas they gather, and a few of those ideas quoted.
    The app's suggestions no one took up are not shown, nor are ideas the
    room may not see (hidden, private, deleted)."""
    themes = db.session.scalars(
        select(Theme)
        .where(Theme.event_id == event.id, Theme.deleted.is_(False), Theme.suggested.is_(False))
        .order_by(Theme.id)
    ).all()
    wanted = {idea_id for theme in themes for idea_id in theme.idea_ids or []}
    visible = {
        idea.id: idea
        for idea in db.session.scalars(
            select(Idea).where(
                Idea.id.in_(wanted),
                Idea.deleted.is_(False),
                Idea.hidden.is_(False),
                Idea.private.is_(False),
            )
        )
    }
    shown = []
    for theme in themes:
        ideas = [visible[i] for i in theme.idea_ids or [] if i in visible]
        pinned = [visible[i] for i in pinned_quotes(theme) if i in visible]
        quoted = pinned + [idea for idea in ideas if idea not in pinned]
        shown.append(
            {
                "id": theme.id,
                "label": theme.label,
                "tables": len({idea.table_id for idea in ideas}),
                "ideas": len(ideas),
                "quotes": [idea.text for idea in quoted[:QUOTES]],
            }
        )
    return shown


def payload(event: Event) -> dict:
    """What the projectors show: the mode and, in plenary, every table's
    result (or the evening's themes)."""
    state = {"mode": "off", "table_id": None, "auto": 0, "since": None, **(event.plenary or {})}
    if state["mode"] == "off":
        return {**state, "tables": [], "cloud": [], "themes": []}
    if state["mode"] == "themes":
        return {**state, "tables": [], "cloud": [], "themes": room_themes(event)}
    if state["mode"] == "room_vote":  # the room's vote: its results once closed
        return {**state, "tables": [], "cloud": [], "themes": [], "vote": room_vote_view(event)}
    top, texts, commitments = top_cards(event), sheet_texts(event), _commitments(event)
    tables = [
        {
            "id": table.id,
            "number": table.number,
            "name": table.name,
            "challenge": str(table.challenge),
            "brief_title": table.brief_title,
            "reporter": table.reporter.display_name if table.reporter else "",
            "top": top.get(table.id, []),
            "sheet": [
                {"key": field["key"], "text": texts[table.id][field["key"]]}
                for field in sheet_template.template(table.challenge)
                if texts[table.id].get(field["key"])
            ],
            "commitments": commitments[table.id],
        }
        for table in control.tables_of(event)
    ]
    cloud = word_cloud(event) if state["mode"] == "cloud" else []
    return {**state, "tables": tables, "cloud": cloud, "themes": []}


@op("plenary.show", "organizer", event_wide=True)
def show(req: Request) -> None:
    """Switch the projectors: off (how to join), one table, turns, the cloud,
    the evening's themes, the room's vote."""
    event = req.actor.event
    mode = req.data.get("mode")
    if mode not in MODES:
        raise bad_request()
    auto = integer(req.data.get("auto", 0))
    if auto is None or not (auto == 0 or 10 <= auto <= 600):
        raise ServiceError("bad_turn", _l("A turn lasts between 10 and 600 seconds."))
    table_id = None
    if mode == "table":
        table_id = integer(req.data.get("table_id"))
        if table_id is None and event.tables:
            table_id = event.tables[0].id
        if not any(table.id == table_id for table in event.tables):
            raise ServiceError("not_found", _l("This table is not part of the evening."))
    event.plenary = {
        "mode": mode,
        "table_id": table_id,
        "auto": auto,
        "since": clock.epoch_ms(),
    }
    announce(event)


def themes_changed(event: Event) -> None:
    """The team changed a theme: projectors showing the themes follow."""
    if (event.plenary or {}).get("mode") == "themes":
        db.session.flush()
        announce(event)


def announce(event: Event) -> None:
    """Push the plenary to the projectors and organizers after the commit."""
    data = payload(event)
    push_after_commit(projector_room(event.id), "plenary", data)
    push_after_commit(organizers_room(event.id), "plenary", {**data, "cloud": []})
