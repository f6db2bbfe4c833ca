"""The synthesis suggestions (issue 18, items 6 and 7): the pure module on
plain dicts, the ``themes suggest`` command, and the quality on the held-out
part of the French evaluation set against the two floors."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop import cli
from workshop.synthesis import suggest as engine

ROOT = Path(__file__).resolve().parent.parent
BRIEF = "Se déplacer sans voiture : quel problème de mobilité mérite une activité ?"


def _scorer():
    path = ROOT / "bench" / "synthesis_score.py"
    spec = importlib.util.spec_from_file_location("synthesis_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ideas(*texts, brief=BRIEF, table="Mobilité"):
    return [
        {"id": f"i{n}", "text": text, "table": table, "brief": brief}
        for n, text in enumerate(texts, 1)
    ]


# A table's wall: two ideas that say the same thing among others that do not.
WALL = [
    "Covoiturage pour aller au travail à Niort",
    "Une piste cyclable entre le bourg et le collège",
    "Le car passe deux fois par jour, il en faudrait plus",
    "appli de covoit pour aller bosser sur Niort",
    "Des garages à vélos sécurisés à la gare",
    "Transport solidaire avec des chauffeurs bénévoles",
    "Un marché de Noël avec les artisans du canton",
    "Une formation au numérique pour les artisans du canton",
    "Vélo-école pour les adultes",
]


def _pairs(result):
    return {frozenset((d["a"], d["b"])) for d in result}


def test_obvious_duplicates_are_found():
    found = engine.duplicates(_ideas(*WALL))
    assert frozenset(("i1", "i4")) in _pairs(found)
    assert all(0 < d["score"] <= 1 for d in found)


def test_a_hard_negative_is_not_a_duplicate():
    # The same words ("les artisans du canton"), two different projects.
    found = _pairs(engine.duplicates(_ideas(*WALL)))
    assert frozenset(("i7", "i8")) not in found
    assert frozenset(("i2", "i5")) not in found  # both about bikes, not the same idea


def test_accents_and_case_are_ignored():
    ideas = _ideas(
        "ÉPICERIE AMBULANTE QUI PASSE DANS LES HAMEAUX",
        "epicerie ambulante qui passe dans les hameaux",
        "Un médecin qui vient au village une fois par semaine",
        "Rénover la salle des fêtes",
    )
    found = engine.duplicates(ideas)
    assert found[0]["a"] == "i1" and found[0]["b"] == "i2" and found[0]["score"] == 1.0
    assert engine.fold("Été À LA Fête") == "ete a la fete"


def test_english_works():
    ideas = _ideas(
        "A carpooling app to get to work in the city",
        "An app for car pooling to go to work in the city",
        "More buses on Sunday",
        "A doctor who comes to the village once a week",
        "Bike lanes between the villages",
        brief="How do people get around without a car?",
    )
    found = _pairs(engine.duplicates(ideas, language="en"))
    assert found == {frozenset(("i1", "i2"))}


def test_each_idea_is_in_at_most_one_theme():
    part = _scorer().load()["tuning"]
    ideas = [{k: v for k, v in idea.items() if k != "theme"} for idea in part["ideas"]]
    result = engine.suggest(ideas)
    seen = [i for theme in result["themes"] for i in theme["ideas"]]
    assert len(seen) == len(set(seen))
    assert set(seen) <= {idea["id"] for idea in ideas}
    assert len(result["themes"]) >= 4
    for theme in result["themes"]:
        assert theme["label"] and 1 <= len(theme["keywords"]) <= 5
        assert len(theme["ideas"]) >= 2
    # The themes and the duplicates alone give the same answers as together.
    assert engine.themes(ideas) == result["themes"]
    assert engine.duplicates(ideas) == result["duplicates"]


def test_ideas_of_one_subject_share_a_theme_across_tables():
    ideas = _ideas(
        "Covoiturage pour aller au travail à Niort",
        "appli de covoit pour aller bosser sur Niort",
        "Covoit domicile-travail vers Niort, avec une appli",
        "covoiturage vers Niort pour le boulot",
        "Une piste cyclable entre le bourg et le collège",
        "Pistes cyclables sécurisées entre les villages",
        "Relier les villages par des pistes vélo",
        "une piste vélo jusqu'au collège",
    )
    for n, idea in enumerate(ideas):
        idea["table"] = f"Table {n % 2}"
    themes = engine.themes(ideas)
    by_idea = {i: t for t, theme in enumerate(themes) for i in theme["ideas"]}
    assert by_idea["i1"] == by_idea["i2"] == by_idea["i3"] == by_idea["i4"]
    assert by_idea["i5"] == by_idea["i6"] == by_idea["i7"] == by_idea["i8"]
    assert by_idea["i1"] != by_idea["i5"]
    assert "covoiturage" in themes[by_idea["i1"]]["keywords"]


def test_empty_and_tiny_inputs():
    assert engine.suggest([]) == {"duplicates": [], "themes": []}
    one = _ideas("Un bus le dimanche")
    assert engine.suggest(one) == {"duplicates": [], "themes": []}
    # Nothing but stop words, punctuation, emoji, an empty text, no brief, no table.
    odd = [
        {"id": 1, "text": ""},
        {"id": 2, "text": "!!! ??? 🙂"},
        {"id": 3, "text": "il faut que ce soit pour nous"},
        {"id": "4", "text": "bus", "table": 7},
    ]
    result = engine.suggest(odd)
    assert result["duplicates"] == []
    assert all(len(theme["ideas"]) >= 2 for theme in result["themes"])


@pytest.mark.parametrize(
    ("ideas", "code"),
    [
        ({"id": 1, "text": "x"}, "not_a_list"),
        (["text"], "not_an_object"),
        ([{"text": "x"}], "missing_field"),
        ([{"id": 1}], "missing_field"),
        ([{"id": 1, "text": 5}], "bad_field"),
        ([{"id": True, "text": "x"}], "bad_field"),
        ([{"id": 1, "text": "x", "brief": ["a"]}], "bad_field"),
        ([{"id": 1, "text": "x" * (engine.MAX_TEXT_LENGTH + 1)}], "too_long"),
        ([{"id": 1, "text": "x"}, {"id": 1, "text": "y"}], "duplicate_id"),
        ([{"id": n, "text": "x"} for n in range(engine.MAX_IDEAS + 1)], "too_many"),
    ],
)
def test_bad_input_is_refused_with_a_reason(ideas, code):
    with pytest.raises(engine.InvalidIdeas) as refused:
        engine.suggest(ideas)
    assert refused.value.code == code


def test_an_unknown_language_is_refused():
    with pytest.raises(engine.InvalidIdeas) as refused:
        engine.suggest(_ideas("Un bus"), language="de")
    assert refused.value.code == "bad_language"


# --- The command ------------------------------------------------------------


def _run(app, tmp_path, content, *options):
    source = tmp_path / "ideas.json"
    source.write_bytes(content if isinstance(content, bytes) else content.encode())
    return app.test_cli_runner().invoke(args=["themes", "suggest", str(source), *options])


def test_command_prints_the_suggestions(app, tmp_path):
    ideas = _ideas(*WALL)
    del ideas[0]["brief"]  # the brief may be missing
    result = _run(app, tmp_path, json.dumps(ideas))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert set(printed) == {"duplicates", "themes"}
    assert frozenset(("i1", "i4")) in _pairs(printed["duplicates"])
    for theme in printed["themes"]:
        assert set(theme) == {"label", "keywords", "ideas"}


# Imported first by the command's interpreter (sitecustomize): any attempt
# to reach the network fails loudly, as it would with the cable cut.
NO_NETWORK = """
import socket

def _cut(*_args, **_kwargs):
    raise OSError("network unavailable (test)")

socket.socket.connect = socket.socket.connect_ex = _cut
socket.create_connection = socket.getaddrinfo = _cut
"""


def test_the_command_needs_no_network(tmp_path):
    """Item 6: the suggestions run with the network unavailable to the process
    (no model downloaded at run time): a separate interpreter whose every
    connection and name lookup fails."""
    (tmp_path / "sitecustomize.py").write_text(NO_NETWORK)
    source = tmp_path / "ideas.json"
    source.write_text(json.dumps(_ideas(*WALL)))
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "WORKSHOP_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'offline.db'}",
        "SOCKETIO_ASYNC_MODE": "threading",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "workshop", "themes", "suggest", str(source)],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    printed = json.loads(done.stdout)
    assert frozenset(("i1", "i4")) in _pairs(printed["duplicates"]) and printed["themes"]
    check = subprocess.run(  # the cut is real: the same interpreter cannot connect
        [sys.executable, "-c", "import socket; socket.create_connection(('pypi.org', 443))"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert check.returncode != 0 and "network unavailable (test)" in check.stderr


@pytest.mark.parametrize(
    ("content", "lang", "message"),
    [
        ('[{"id": 1, "text": "un bus"', "fr", "n’est pas du JSON valide (ligne 1"),
        ('{"id": 1, "text": "un bus"}', "fr", "doit contenir une liste JSON d’idées"),
        ('[{"id": 1, "text": "un bus"}, 3]', "fr", "L’idée n°\u00a02 n’est pas un objet"),
        ('[{"id": 1, "table": "T1"}]', "fr", "n’a pas de «\u00a0text\u00a0»"),
        ('[{"id": 1, "table": "T1"}]', "en", "Idea 1 has no “text”."),
        (
            json.dumps([{"id": 1, "text": "x" * (engine.MAX_TEXT_LENGTH + 1)}]),
            "en",
            f"“text” has more than {engine.MAX_TEXT_LENGTH} characters",
        ),
        ('[{"id": 1, "text": "a"}, {"id": 1, "text": "b"}]', "en", "the same id"),
        ('[{"id": null, "text": "a"}]', "en", "Idea 1 has no “id”."),
        (b'[{"id": 1, "text": "caf\xe9"}]', "en", "is not UTF-8 text"),
        ("[" * 100_000 + "]" * 100_000, "en", "is not valid JSON"),
        ("", "en", "is not valid JSON (line 1, column 1)"),
    ],
)
def test_command_refuses_bad_input_clearly(app, tmp_path, content, lang, message):
    result = _run(app, tmp_path, content, "--lang", lang)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""  # no half-printed JSON


def test_command_refuses_a_missing_or_oversize_file(app, tmp_path):
    missing = app.test_cli_runner().invoke(
        args=["themes", "suggest", str(tmp_path / "nowhere.json"), "--lang", "en"]
    )
    assert missing.exit_code == 1
    assert "There is no file" in missing.output
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:
        out.write(b"[" + b" " * cli.MAX_SUGGEST_INPUT_BYTES + b"]")
    result = app.test_cli_runner().invoke(args=["themes", "suggest", str(huge), "--lang", "en"])
    assert result.exit_code == 1
    assert "is larger than 16 MB" in result.output


def test_command_reads_the_standard_input(app):
    ideas = json.dumps(_ideas(*WALL))
    result = app.test_cli_runner().invoke(args=["themes", "suggest", "-"], input=ideas)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["duplicates"]


# --- Quality ----------------------------------------------------------------


def test_held_out_figures_stay_at_least_as_good_as_the_floors():
    """On the held-out evening (thresholds chosen on the tuning one), the
    suggestions do at least as well as one theme per brief and as lemmatized
    TF-IDF, on every figure of the scorer."""
    scorer = _scorer()
    figures = scorer.evaluate(scorer.load()["heldout"])
    ours, brief, tfidf = figures["suggest"], figures["one theme per brief"], figures["TF-IDF"]
    assert ours["themes"]["ari"] >= brief["themes"]["ari"]
    assert ours["themes"]["ari"] >= tfidf["themes"]["ari"]
    least_unsorted = min(brief["themes"]["unsorted"], tfidf["themes"]["unsorted"])
    assert ours["themes"]["unsorted"] <= least_unsorted
    assert ours["duplicates"]["f1"] >= tfidf["duplicates"]["f1"]
    assert ours["duplicates"]["precision"] >= tfidf["duplicates"]["precision"]
    assert ours["duplicates"]["precision"] >= 0.6  # most hints right


def test_the_scorer_counts_what_it_says():
    scorer = _scorer()
    assert scorer.adjusted_rand_index([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert scorer.adjusted_rand_index([1, 1, 2, 2], ["a", "b", "a", "b"]) < 0
    part = {
        "ideas": [{"id": k, "theme": t} for k, t in (("a", 1), ("b", 1), ("c", 2), ("d", 2))],
        "duplicates": [["a", "b", "c"]],
        "hard_negatives": [["c", "d"]],
    }
    found = [{"a": "a", "b": "b"}, {"a": "c", "b": "d"}]
    figures = scorer.duplicate_figures(part, found)
    assert (figures["precision"], figures["recall"]) == (0.5, 1 / 3)
    assert figures["hard_negatives_hit"] == 1
    themes = scorer.theme_figures(part, [{"ideas": ["a", "b"]}])
    assert themes["unsorted"] == 0.5
