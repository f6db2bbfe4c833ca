"""The job runner (issue 18, item 0): work off the event loop, written back
as ordinary changes, derived again from the data after a restart; and its
first job, the app's theme suggestions for the synthesis team."""

import json
import threading
import time

import pytest
from flask import has_app_context
from sqlalchemy import select

from workshop import jobs
from workshop.extensions import db
from workshop.models import Event, Idea, Theme
from workshop.synthesis import apart, suggest

from .helpers import Screen, console, organizer_screen, phone, signed_in, wait_for


def test_a_job_computes_without_the_app_and_writes_back_within_it(app):
    runner, seen = jobs.JobRunner(app), {}

    def compute():
        seen["compute"] = has_app_context()
        return 42

    def apply(result):
        seen["apply"] = (has_app_context(), result)

    assert runner.submit(jobs.Job("answer", compute, apply))
    assert wait_for(lambda: runner.done == 1)
    assert seen == {"compute": False, "apply": (True, 42)}


def test_the_queue_is_bounded_and_a_waiting_job_is_replaced_by_a_newer_one(app):
    runner, started, release, applied = (
        jobs.JobRunner(app, size=2),
        threading.Event(),
        threading.Event(),
        [],
    )

    def blocking():
        started.set()
        release.wait(10)

    def job(key, label, compute=lambda: None):
        return jobs.Job(key, compute, lambda _result: applied.append(label))

    assert runner.submit(job("busy", "busy", blocking))
    started.wait(10)
    assert runner.submit(job("b", "b, old data")) and runner.submit(job("c", "c"))
    assert not runner.submit(job("d", "d"))  # full: refused, not queued
    assert runner.submit(job("b", "b, new data"))  # the same work on newer data
    release.set()
    assert wait_for(lambda: runner.done == 3)
    assert applied == ["busy", "b, new data", "c"]


def test_a_failing_job_is_logged_and_the_next_one_runs(app, caplog):
    runner, applied = jobs.JobRunner(app), []
    runner.submit(jobs.Job("broken", lambda: 1 / 0, applied.append))
    runner.submit(jobs.Job("fine", lambda: "ok", applied.append))
    assert wait_for(lambda: runner.done + runner.failed == 2)
    assert applied == ["ok"] and runner.failed == 1
    assert "job broken failed" in caplog.text


IDEAS = [
    "Une navette en bus vers la gare",
    "Un bus le samedi pour aller au marché",
    "Covoiturage vers la gare le matin",
    "Navette bus pour les collégiens",
    "Un jardin partagé au centre du village",
    "Des jardins potagers partagés pour les familles",
    "Un potager à l'école",
    "Jardin partagé avec des bacs pour les aînés",
]


def themes_in_db(app) -> list[Theme]:
    with app.app_context():
        found = db.session.scalars(select(Theme).order_by(Theme.id)).all()
        db.session.expunge_all()
        return found


def evening_seq(app, evening) -> int:
    with app.app_context():
        return db.session.get(Event, evening.event_id).last_seq


def desk(app, evening) -> Screen:
    """A synthesis desk's screen: the app suggests themes to it."""
    auth = {"role": "desk", "event": evening.event_id}
    return Screen(app, auth, signed_in(app))


def test_the_app_suggests_themes_to_the_team_and_a_restart_adds_nothing(app, evening):
    app.config["SUGGEST_EVERY"] = 0
    posted = []
    for number, table in enumerate(evening.tables):
        _, screen = phone(app, table, f"Tel {number}")
        for text in IDEAS[number::2]:
            posted.append(screen.write("idea.post", {"text": text})["changes"][0]["id"])
    runner = jobs.runner(app)
    organizer_screen(app, evening)  # the control room alone: no suggestions computed
    runner.derive()
    time.sleep(0.2)
    assert runner.done == 0
    team = desk(app, evening)
    team.forget()

    runner.derive()
    assert wait_for(lambda: runner.done == 1)

    suggested = themes_in_db(app)
    assert suggested and all(t.suggested and t.created_by == "app" for t in suggested)
    assert set().union(*(t.idea_ids for t in suggested)) <= set(posted)
    assert wait_for(lambda: len(team.received("evening")) >= 1)
    pushed = [c for push in team.received("evening") for c in push["changes"]]
    assert {c["id"] for c in pushed} == {t.id for t in suggested}
    assert all(c["by"] == "app" and c["suggested"] for c in pushed)

    seq = evening_seq(app, evening)
    runner.derive()  # nothing changed: no job
    time.sleep(0.2)
    assert runner.done == 1
    app.extensions.pop("themes_computed_from")  # a restart forgets what was computed
    runner.derive()
    assert wait_for(lambda: runner.done == 2)
    assert [t.id for t in themes_in_db(app)] == [t.id for t in suggested]
    assert evening_seq(app, evening) == seq  # computed again, nothing written again


def test_a_suggestion_a_person_took_up_stays_theirs_when_the_ideas_change(app, evening):
    app.config["SUGGEST_EVERY"] = 0
    _, alice = phone(app, evening.tables[0], "Alice")
    for text in IDEAS:
        alice.write("idea.post", {"text": text})
    team = desk(app, evening)
    runner = jobs.runner(app)
    runner.derive()
    assert wait_for(lambda: runner.done == 1)
    first = themes_in_db(app)[0]
    assert team.write("theme.accept", {"theme_id": first.id})["ok"]
    team.write("theme.update", {"theme_id": first.id, "label": "Se déplacer", "base_version": 0})

    for text in ("Une ressourcerie", "Un repair café", "Une recyclerie solidaire"):
        alice.write("idea.post", {"text": text})
    runner.derive()
    assert wait_for(lambda: runner.done == 2)

    kept = {t.id: t for t in themes_in_db(app)}
    assert kept[first.id].label == "Se déplacer" and not kept[first.id].deleted
    assert not kept[first.id].suggested and kept[first.id].accepted_by.startswith("o:")
    # The app's own pending suggestions are its to withdraw, never a person's.
    assert all(t.suggested or t.id == first.id for t in kept.values() if t.created_by == "app")


def test_suggestions_are_computed_in_a_process_of_their_own_with_the_same_result():
    """Grouping a hall's ideas would hold the interpreter against the loop in
    a thread: the suggestions job computes in a child process instead."""
    ideas = [
        {"id": n, "text": text, "table": f"T{n % 3}", "brief": "Se déplacer"}
        for n, text in enumerate(IDEAS)
    ]
    assert apart.suggest_apart(ideas, "fr") == json.loads(json.dumps(suggest.suggest(ideas, "fr")))
    with pytest.raises(apart.SuggestionsFailed):
        apart.suggest_apart(ideas, "klingon")  # the child fails: said, never taken for none


def test_likely_duplicates_reach_the_desks_as_hints_and_are_never_merged(app, evening):
    app.config["SUGGEST_EVERY"] = 0
    texts = ["Une navette pour aller au marché le samedi", "Une navette le samedi pour le marché"]
    posted = []
    for number, (table, text) in enumerate(zip(evening.tables, texts, strict=True)):
        _, screen = phone(app, table, f"Tel {number}")
        posted.append(screen.write("idea.post", {"text": text})["changes"][0]["id"])
    runner = jobs.runner(app)
    team = desk(app, evening)
    assert team.emit("sync", {})["duplicates"] == []  # nothing computed yet

    runner.derive()
    assert wait_for(lambda: runner.done == 1)
    assert wait_for(lambda: team.received("duplicates"))
    [pair] = team.received("duplicates")[-1]["pairs"]
    assert sorted((pair["a"], pair["b"])) == sorted(posted) and 0 < pair["score"] <= 1
    # A desk opened later finds them in its catch-up; both ideas are still there.
    late = desk(app, evening)
    assert late.emit("sync", {})["duplicates"] == [pair]
    with app.app_context():
        assert all(not db.session.get(Idea, i).deleted for i in posted)


def test_a_console_grouping_its_cards_gets_its_tables_likely_duplicates(app, evening):
    app.config["SUGGEST_EVERY"] = 0
    table, other = evening.tables
    _, alice = phone(app, table, "Alice")
    _, bruno = phone(app, other, "Bruno")
    same = ["Une navette pour aller au marché le samedi", "Une navette le samedi pour le marché"]
    posted = [alice.write("idea.post", {"text": text})["changes"][0]["id"] for text in same]
    bruno.write("idea.post", {"text": same[0]})  # another table's: not this console's hint
    facilitator = console(app, table)
    runner = jobs.runner(app)
    runner.derive()
    time.sleep(0.2)
    assert runner.done == 0  # not grouping yet: nothing computed

    steps = facilitator.emit("sync", {"since": 0})["changes"]
    [grouping] = [c for c in steps if c["type"] == "step" and c["kind"] == "cluster"]
    assert facilitator.write("step.go", {"step_id": grouping["id"]})["ok"]
    runner.derive()
    assert wait_for(lambda: runner.done == 1)
    assert wait_for(lambda: facilitator.received("duplicates"))
    [pair] = facilitator.received("duplicates")[-1]["pairs"]
    assert sorted((pair["a"], pair["b"])) == posted
    assert facilitator.emit("sync", {"since": 0})["duplicates"] == [pair]
    assert console(app, other).emit("sync", {"since": 0})["duplicates"] == []  # not grouping


def test_suggestions_switched_off_compute_nothing(app, evening):
    app.config.update(SUGGEST_EVERY=0, SUGGESTIONS=False)
    _, alice = phone(app, evening.tables[0], "Alice")
    alice.write("idea.post", {"text": "Une navette le samedi"})
    team = desk(app, evening)
    runner = jobs.runner(app)
    runner.derive()
    time.sleep(0.2)
    assert runner.done == 0
    assert team.emit("sync", {})["duplicates"] == [] and themes_in_db(app) == []
