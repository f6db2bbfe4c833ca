"""Socket handlers with Flask-SocketIO's test client on a real database."""

import time
import uuid

from workshop.extensions import db, socketio
from workshop.models import Idea
from workshop.services import events

from .conftest import facilitator_client, participant_client, received


def post(sio, text="Une navette solidaire", kind="idea", client_id=None):
    return sio.emit(
        "post_idea",
        {"client_id": client_id or str(uuid.uuid4()), "kind": kind, "text": text},
        callback=True,
    )


def test_post_is_acknowledged_and_broadcast_to_the_table_only(app, table, other_table):
    _alice, _, alice = participant_client(app, table, "Alice")
    _bob, _, bob = participant_client(app, table, "Bob")
    _carol, _, carol = participant_client(app, other_table, "Carol")
    console = facilitator_client(app, table)
    for sio in (alice, bob, carol, console):
        sio.get_received()

    ack = post(alice, "Un garage solidaire")

    assert ack["ok"] is True
    assert ack["idea"]["text"] == "Un garage solidaire"
    assert ack["idea"]["seq"] == 1
    assert [i["text"] for i in received(bob, "idea")] == ["Un garage solidaire"]
    assert [i["author"] for i in received(console, "idea")] == ["Alice"]
    assert received(carol, "idea") == []


def test_resending_the_same_client_id_stores_one_idea(app, table):
    _alice, _, alice = participant_client(app, table)
    client_id = str(uuid.uuid4())

    first = post(alice, "Covoiturage", client_id=client_id)
    again = post(alice, "Covoiturage", client_id=client_id)

    assert first["idea"]["id"] == again["idea"]["id"]
    assert db.session.query(Idea).count() == 1


def test_catch_up_returns_what_a_phone_missed(app, table):
    _alice, _, alice = participant_client(app, table, "Alice")
    for text in ("Un", "Deux", "Trois"):
        post(alice, text)
    _bob, _, bob = participant_client(app, table, "Bob")

    everything = bob.emit("sync", {"since": 0}, callback=True)
    missed = bob.emit("sync", {"since": 1}, callback=True)

    assert [i["text"] for i in everything["ideas"]] == ["Un", "Deux", "Trois"]
    assert everything["seq"] == 3
    assert [i["text"] for i in missed["ideas"]] == ["Deux", "Trois"]


def test_edit_and_delete_own_idea_reach_catch_up(app, table):
    _alice, _, alice = participant_client(app, table)
    client_id = str(uuid.uuid4())
    post(alice, "Premier jet", client_id=client_id)

    edited = alice.emit(
        "edit_idea", {"client_id": client_id, "kind": "need", "text": "Version 2"}, callback=True
    )
    assert edited["ok"] and edited["idea"]["text"] == "Version 2" and edited["idea"]["seq"] == 2

    deleted = alice.emit("delete_idea", {"client_id": client_id}, callback=True)
    assert deleted["ok"] and deleted["idea"]["deleted"] is True

    changes = alice.emit("sync", {"since": 2}, callback=True)
    assert [(i["deleted"], i["text"]) for i in changes["ideas"]] == [(True, "")]


def test_a_participant_cannot_edit_someone_elses_idea(app, table):
    _alice, _, alice = participant_client(app, table, "Alice")
    _bob, _, bob = participant_client(app, table, "Bob")
    client_id = str(uuid.uuid4())
    post(alice, "À Alice", client_id=client_id)

    answer = bob.emit("edit_idea", {"client_id": client_id, "text": "Piraté"}, callback=True)

    assert answer["ok"] is False
    assert db.session.query(Idea).one().text == "À Alice"


def test_crafted_table_in_a_message_is_ignored(app, table, other_table):
    """The table comes from the participant's token, never from the message."""
    _alice, _, alice = participant_client(app, table)
    _carol, _, carol = participant_client(app, other_table, "Carol")
    carol.get_received()

    ack = alice.emit(
        "post_idea",
        {
            "client_id": str(uuid.uuid4()),
            "text": "Intrus",
            "table_id": other_table.id,
            "table": other_table.join_code,
        },
        callback=True,
    )

    assert db.session.get(Idea, ack["idea"]["id"]).table_id == table.id
    assert received(carol, "idea") == []


def test_cookie_of_table_a_cannot_connect_to_table_b(app, table, other_table):
    _alice, http, _ = participant_client(app, table)

    intruder = socketio.test_client(
        app, flask_test_client=http, auth={"role": "participant", "table": other_table.join_code}
    )

    assert not intruder.is_connected()


def test_participant_cannot_moderate(app, table):
    _alice, _, alice = participant_client(app, table)
    idea_id = post(alice)["idea"]["id"]

    answer = alice.emit("hide_idea", {"id": idea_id, "hidden": True}, callback=True)

    assert answer == {"ok": False, "error": "forbidden", "message": answer["message"]}
    assert db.session.get(Idea, idea_id).hidden is False


def test_facilitator_hides_an_idea_and_phones_lose_its_text(app, table):
    _alice, _, alice = participant_client(app, table)
    console = facilitator_client(app, table)
    idea_id = post(alice, "Hors sujet")["idea"]["id"]
    alice.get_received()

    answer = console.emit("hide_idea", {"id": idea_id, "hidden": True}, callback=True)

    assert answer["ok"] and answer["idea"]["hidden"] and answer["idea"]["text"] == "Hors sujet"
    [pushed] = received(alice, "idea")
    assert pushed["hidden"] is True and pushed["text"] == ""
    assert alice.emit("sync", {"since": 0}, callback=True)["ideas"][0]["text"] == ""


def test_facilitator_cannot_touch_another_table(app, table, other_table):
    _carol, _, carol = participant_client(app, other_table, "Carol")
    idea_id = post(carol)["idea"]["id"]
    console = facilitator_client(app, table)

    answer = console.emit("hide_idea", {"id": idea_id, "hidden": True}, callback=True)

    assert answer["ok"] is False
    assert db.session.get(Idea, idea_id).hidden is False


def test_rotated_facilitator_link_stops_working_at_once(app, organizer, table):
    console = facilitator_client(app, table)
    _alice, _, alice = participant_client(app, table)
    idea_id = post(alice)["idea"]["id"]

    events.rotate_facilitator_secret(organizer, table)
    answer = console.emit("hide_idea", {"id": idea_id, "hidden": True}, callback=True)

    assert answer["ok"] is False
    assert db.session.get(Idea, idea_id).hidden is False


def test_facilitator_designates_the_reporter(app, table, other_table):
    bob, _, bob_sio = participant_client(app, table, "Bob")
    carol, _, _ = participant_client(app, other_table, "Carol")
    console = facilitator_client(app, table)
    bob_sio.get_received()

    refused = console.emit("set_reporter", {"participant_id": carol.id}, callback=True)
    answer = console.emit("set_reporter", {"participant_id": bob.id}, callback=True)

    assert refused["ok"] is False
    assert answer["state"]["reporter"] == "Bob"
    assert received(bob_sio, "state")[-1]["reporter_id"] == bob.id


def test_console_catch_up_lists_participants(app, table):
    participant_client(app, table, "Alice")
    console = facilitator_client(app, table)

    state = console.emit("sync", {"since": 0}, callback=True)

    assert [p["name"] for p in state["participants"]] == ["Alice"]


def test_empty_and_oversize_ideas_are_refused_and_change_nothing(app, table):
    _alice, _, alice = participant_client(app, table)

    empty = post(alice, "   ")
    too_long = post(alice, "x" * 501)
    bad_kind = post(alice, "ok", kind="<script>")

    assert (empty["error"], too_long["error"], bad_kind["error"]) == (
        "empty",
        "too_long",
        "bad_kind",
    )
    assert "500" in too_long["message"]
    assert db.session.query(Idea).count() == 0
    assert alice.emit("sync", {"since": 0}, callback=True)["seq"] == 0


def test_errors_are_translated(app, table):
    _alice, http, _ = participant_client(app, table)
    http.set_cookie("lang", "fr")

    french = socketio.test_client(
        app, flask_test_client=http, auth={"role": "participant", "table": table.join_code}
    )
    http.set_cookie("lang", "en")
    english = socketio.test_client(
        app, flask_test_client=http, auth={"role": "participant", "table": table.join_code}
    )

    assert post(english, "")["message"] == "Write something before posting."
    assert post(french, "")["message"] == "Écrivez quelque chose avant de publier."


def test_posting_is_rate_limited_with_a_clear_message(app, table):
    app.config.update(RATE_LIMIT_POSTS=3, RATE_LIMIT_WINDOW=60)
    _alice, _, alice = participant_client(app, table)
    answers = [post(alice, f"Idée {n}") for n in range(4)]

    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3]["error"] == "rate_limited" and answers[3]["retry_after"] > 0
    # A resend of an idea already stored is not a new post: still acknowledged.
    assert post(alice, "Idée 0", client_id=answers[0]["idea"]["client_id"])["ok"] is True
    assert db.session.query(Idea).count() == 3


def test_closed_evening_refuses_posts(app, organizer, event, table):
    _alice, _, alice = participant_client(app, table)
    events.update_event(organizer, event, status="closed")

    answer = post(alice)

    assert answer["error"] == "event_closed"
    assert db.session.query(Idea).count() == 0


def test_anonymous_socket_is_refused(app):
    assert not socketio.test_client(
        app, auth={"role": "participant", "table": "NOPE"}
    ).is_connected()
    assert not socketio.test_client(app, auth={"role": "facilitator", "secret": "x"}).is_connected()
    assert not socketio.test_client(app, auth={"role": "organizer", "event": 1}).is_connected()
    assert not socketio.test_client(app).is_connected()


def test_organizer_overview_gets_counts_and_ideas_live(app, event, table):
    http = app.test_client()
    http.post("/login", data={"email": "orga@example.org", "password": "correct horse battery"})
    overview = socketio.test_client(
        app, flask_test_client=http, auth={"role": "organizer", "event": event.id}
    )
    assert overview.is_connected()
    _alice, _, alice = participant_client(app, table)
    overview.get_received()

    post(alice, "Une ressourcerie")

    pushed = overview.get_received()
    [idea] = [m["args"][0] for m in pushed if m["name"] == "idea"]
    assert idea["table_id"] == table.id and idea["text"] == "Une ressourcerie"
    counts = [m["args"][0] for m in pushed if m["name"] == "counts"][-1]
    assert counts[str(table.id)] == {"participants": 1, "ideas": 1}
    state = overview.emit("sync", {}, callback=True)
    assert state["counts"][str(table.id)]["ideas"] == 1


def test_organizer_of_another_territory_cannot_watch(app, event):
    from .helpers import PASSWORD, make_organizer

    make_organizer("other@example.org", "Autre pays")
    http = app.test_client()
    http.post("/login", data={"email": "other@example.org", "password": PASSWORD})

    spy = socketio.test_client(
        app, flask_test_client=http, auth={"role": "organizer", "event": event.id}
    )

    assert not spy.is_connected()


def test_projector_receives_totals(app, event, table):
    screen = socketio.test_client(app, auth={"role": "projector", "event": event.join_code})
    _alice, _, alice = participant_client(app, table)
    screen.get_received()

    post(alice)

    assert received(screen, "totals")[-1] == {"tables": 2, "participants": 1, "ideas": 1}


def test_counters_of_a_burst_of_posts_arrive_folded_but_complete(app, event, table):
    """Counters are throttled (bench/live_load.py), never left stale."""
    screen = socketio.test_client(app, auth={"role": "projector", "event": event.join_code})
    _alice, _, alice = participant_client(app, table)
    screen.get_received()

    for n in range(5):
        post(alice, f"Idée {n}")

    totals = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not totals or totals[-1]["ideas"] < 5):
        totals += received(screen, "totals")
        time.sleep(0.05)
    assert totals[-1]["ideas"] == 5
    assert len(totals) < 5  # folded: not one send per post


def test_a_rotated_link_cuts_off_the_open_console_at_once(app, organizer, table):
    console = facilitator_client(app, table)
    _alice, _, alice = participant_client(app, table)
    http = app.test_client()
    http.post("/login", data={"email": "orga@example.org", "password": "correct horse battery"})
    console.get_received()

    http.post(f"/organizer/tables/{table.id}/rotate")
    post(alice, "Après la rotation")

    pushed = [m["name"] for m in console.get_received()]
    assert pushed == ["revoked"]


def test_a_resend_repairs_screens_that_missed_the_broadcast(app, table):
    _alice, _, alice = participant_client(app, table)
    _bob, _, bob = participant_client(app, table, "Bob")
    client_id = str(uuid.uuid4())
    post(alice, "Une idée", client_id=client_id)
    bob.get_received()  # as if Bob had missed that broadcast

    post(alice, "Une idée", client_id=client_id)  # the phone never got its ack

    assert [i["text"] for i in received(bob, "idea")] == ["Une idée"]


def test_hidden_ideas_do_not_say_who_wrote_them(app, table):
    _alice, _, alice = participant_client(app, table)
    _bob, _, bob = participant_client(app, table, "Bob")
    console = facilitator_client(app, table)
    idea_id = post(alice, "À cacher")["idea"]["id"]

    console.emit("hide_idea", {"id": idea_id, "hidden": True}, callback=True)

    [seen] = bob.emit("sync", {"since": 0}, callback=True)["ideas"]
    assert (seen["author_id"], seen["author"], seen["text"]) == (None, "", "")


def test_edits_of_one_idea_are_spaced(app, table):
    _alice, _, alice = participant_client(app, table)
    client_id = str(uuid.uuid4())
    post(alice, "V1", client_id=client_id)

    first = alice.emit("edit_idea", {"client_id": client_id, "text": "V2"}, callback=True)
    second = alice.emit("edit_idea", {"client_id": client_id, "text": "V3"}, callback=True)

    assert first["ok"] is True
    assert second["error"] == "rate_limited" and second["retry_after"] > 0
    assert db.session.query(Idea).one().text == "V2"


def test_signing_out_closes_the_organizers_open_overview(app, event):
    http = app.test_client()
    http.post("/login", data={"email": "orga@example.org", "password": "correct horse battery"})
    overview = socketio.test_client(
        app, flask_test_client=http, auth={"role": "organizer", "event": event.id}
    )
    overview.get_received()

    http.post("/logout")

    assert not overview.is_connected()


def test_malformed_connection_requests_are_refused(app, table):
    for auth in (
        {"role": ["participant"]},
        {"role": "participant", "table": {"x": 1}},
        {"role": "organizer", "event": "1"},
        "participant",
        [1, 2],
    ):
        assert not socketio.test_client(app, auth=auth).is_connected(), auth
