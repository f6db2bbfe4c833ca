"""What one live write costs the server, in process: CPU time and SQL statements.

Runs the real socket handler (``workshop.sockets.on_write``) in a request
context per write, as Flask-SocketIO does per event, against a migrated
SQLite file: no network, no load generator, so the figure is the handler's
own cost and repeatable on a noisy machine. With --profile, prints where the
time goes (cProfile, cumulative).

    .venv/bin/python bench/write_cost.py                 # idea.post, 2,000 writes
    .venv/bin/python bench/write_cost.py --op vote.cast  # votes at an open vote step
    .venv/bin/python bench/write_cost.py --op tables.step --tables 200 --writes 20
    .venv/bin/python bench/write_cost.py --profile
    SHOW_SQL=1 .venv/bin/python bench/write_cost.py --writes 2   # the statements themselves
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=20)
    parser.add_argument(
        "--op", default="idea.post", choices=["idea.post", "vote.cast", "sync", "tables.step"]
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench-secret")

    from flask import request, session
    from flask_login import login_user
    from flask_migrate import upgrade
    from sqlalchemy import event

    from workshop import create_app
    from workshop.client import envelope
    from workshop.extensions import db
    from workshop.models import Challenge, Organizer, StepKind, Territory
    from workshop.services import accounts, events, live, steps, writes
    from workshop.sockets import on_sync, on_write

    with tempfile.TemporaryDirectory(prefix="write-cost-") as workdir:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(workdir) / 'bench.db'}",
                "SOCKETIO_ASYNC_MODE": "threading",
                "SOCKETIO_MESSAGE_QUEUE": None,
                "RATE_LIMIT_POSTS": 1_000_000,
            }
        )
        with app.app_context():
            upgrade()
            territory = Territory(
                name="Banc",
                population=1000,
                settings={
                    "public": {"controller": "Banc", "controller_contact": "banc@example.org"}
                },
            )
            db.session.add(territory)
            organizer = accounts.create_organizer("B", "b@example.org", "password 1234", territory)
            db.session.commit()
            evening = events.create_event(organizer, territory, "Banc", None, "Salle")
            for n in range(args.tables):
                events.add_table(
                    organizer, evening, name=f"T{n}", challenge=Challenge.creative,
                    brief_title="Q", brief="B",
                )  # fmt: skip
            events.update_event(organizer, evening, status="live")
            people = []
            for table in evening.tables:
                for k in range(10):
                    participant, _token = live.join_table(table, f"P{k}", "citizen")
                    people.append((participant.id, table.id))
                if args.op == "tables.step":
                    steps.ensure_script(table)
                if args.op == "vote.cast":
                    steps.ensure_script(table)
                    vote = next(s for s in table.steps if s.kind == StepKind.vote)
                    facilitator = writes.as_facilitator(table)
                    for name, data in (("step.go", {"step_id": vote.id}), ("vote.open", {})):
                        writes.perform(facilitator, envelope(name, data))
                    for k in range(5):
                        writes.perform(
                            writes.as_participant(table.participants[k]),
                            envelope("idea.post", {"text": f"Idée {k}"}),
                        )
            cards = {}
            if args.op == "vote.cast":
                from workshop.models import Idea

                for idea in db.session.scalars(db.select(Idea)):
                    cards.setdefault(idea.table_id, []).append(idea.id)
            evening_id, organizer_id = evening.id, organizer.id
            db.session.remove()

        statements = []
        with app.app_context():
            engine = db.engine

        def count(statement: str) -> None:
            statements.append(statement.split()[0].upper())
            if os.environ.get("SHOW_SQL"):
                print(statement[:300])

        # What SQLite itself runs (the statements prepared on its connection
        # too, and BEGIN/COMMIT), on every connection opened from now on.
        @event.listens_for(engine, "connect")
        def trace(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(count)

        engine.dispose()

        def one(n: int):
            participant_id, table_id = people[n % len(people)]
            who = {"role": "participant", "id": participant_id, "table_id": table_id}
            if args.op == "tables.step":
                who = {"role": "organizer", "event_id": evening_id}
                kind = ("diverge", "vote", "sheet", "plenary")[n % 4]
                handler = on_write
                payload = envelope("tables.step", {"kind": kind})
            elif args.op == "sync":
                handler, payload = on_sync, {"since": 0}
            elif args.op == "vote.cast":
                ideas = cards[table_id]
                handler = on_write
                payload = envelope("vote.cast", {"idea_id": ideas[n % len(ideas)]})
            else:
                handler = on_write
                payload = envelope("idea.post", {"text": f"Idée numéro {n}", "kind": "idea"})
            with app.test_request_context("/socket.io/"):
                session["who"] = who
                request.sid = f"bench-{n}"  # what Flask-SocketIO sets on a socket event
                if who["role"] == "organizer":
                    login_user(db.session.get(Organizer, organizer_id))
                answer = handler(payload)
            # Budgets run out at a vote: its refusals are measured too.
            if not answer.get("ok") and args.op != "vote.cast":
                sys.exit(f"write refused: {answer}")

        for n in range(min(50, args.writes)):  # warm caches (compiled statements, translations)
            one(n)
        statements.clear()
        profile = cProfile.Profile() if args.profile else None
        times = []
        if profile:
            profile.enable()
        for n in range(args.writes):
            t = time.process_time()
            one(n)
            times.append(time.process_time() - t)
        if profile:
            profile.disable()
        times.sort()
        per = len(statements) / args.writes
        kinds = {k: round(statements.count(k) / args.writes, 2) for k in sorted(set(statements))}
        print(
            f"{args.op}: {args.writes} writes; CPU per write: mean "
            f"{statistics.mean(times) * 1e3:.2f} ms, median {times[len(times) // 2] * 1e3:.2f} ms,"
            f" p99 {times[int(len(times) * 0.99)] * 1e3:.2f} ms; "
            f"SQL statements per write: {per:.2f} {kinds}"
        )
        if profile:
            stats = pstats.Stats(profile)
            if os.environ.get("PROFILE_OUT"):
                stats.dump_stats(os.environ["PROFILE_OUT"])
            # Function calls are repeatable where CPU time on a shared machine is not.
            print(f"Python function calls per write: {stats.total_calls / args.writes:.0f}")
            stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    main()
