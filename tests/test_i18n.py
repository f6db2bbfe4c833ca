"""Translations: French is the default and complete; English on request.

The catalog test extracts the messages afresh from the sources, so a string
added to a template or to the code without its French translation fails here.
"""

import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "workshop" / "translations"
FRENCH_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"

# %(name)s / %(n)d style (gettext in Python and Jinja) and {n} style (the
# strings live.js fills in itself).
PLACEHOLDER = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[A-Za-z_]\w*\}"
)


def _compile_translations() -> None:
    """Build the .mo files the app reads (gitignored; ``make test`` builds them
    too), so that this module is right when run on its own. Written to a
    temporary file then renamed: a concurrent reader never sees half a file."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(tmp, mo_path)
        except BaseException:
            os.unlink(tmp)
            raise


_compile_translations()


def _ids(message) -> tuple:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def _placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory):
    """The messages of the sources as they are now, extracted like the README says."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "--quiet",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-o",
            str(pot),
            "--no-location",
            "--sort-output",
            "--project",
            "Start-Up de Territoire",
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def french():
    with FRENCH_PO.open("rb") as f:
        return read_po(f, locale="fr")


def test_extraction_finds_the_messages(fresh_template):
    ids = {m.id for m in fresh_template if m.id}
    # Sanity: templates (Jinja) and Python (gettext and lazy _l) are all scanned.
    assert "Welcome" in ids  # templates/auth/setup.html
    assert "Wrong email or password." in ids  # workshop/web/auth.py, _()
    assert "Password" in ids  # workshop/forms.py, _l()
    assert len(ids) > 100


def test_french_translates_every_message_of_the_sources(fresh_template, french):
    untranslated = []
    for message in fresh_template:
        if not message.id:
            continue
        translated = french.get(message.id)
        if translated is None or not all(s.strip() for s in _strings(translated)):
            untranslated.append(message.id)
    assert untranslated == [], (
        f"{len(untranslated)} message(s) have no French translation; run the "
        "extraction and `pybabel update` (see the README), then translate them in "
        f"{FRENCH_PO.relative_to(ROOT)}: {untranslated}"
    )


def test_french_catalog_has_no_fuzzy_entry(french):
    # pybabel compile skips a catalog whose header is fuzzy, and fuzzy entries.
    assert not french.fuzzy, "the French catalog's header is marked fuzzy"
    fuzzy = [m.id for m in french if m.id and m.fuzzy]
    assert fuzzy == []


def test_french_keeps_the_placeholders(french):
    wrong = []
    for message in french:
        if not message.id:
            continue
        expected = _placeholders(_ids(message)[-1])
        for string in _strings(message):
            if string and _placeholders(string) != expected:
                wrong.append((message.id, string))
    assert wrong == []


def test_french_catalog_passes_babel_checks(french):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in french.check()]
    assert problems == []


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("Write something before posting.", "Écrivez quelque chose avant de publier."),
        ("Connected", "Connecté"),
        ("Connecting…", "Connexion…"),
        ("1 idea waiting to be sent", "1 idée en attente d’envoi"),
        ("{n} ideas waiting to be sent", "{n} idées en attente d’envoi"),
        ("Edit", "Modifier"),
        ("Delete", "Supprimer"),
        ("Hide", "Masquer"),
        ("Show again", "Afficher à nouveau"),
        ("Post", "Publier"),
        ("Need", "Besoin"),
        ("Idea", "Idée"),
        ("Resource", "Ressource"),
        ("Question", "Question"),
        ("Star'Ter", "Star'Ter"),
        ("Boos'Ter", "Boos'Ter"),
        ("Start-Up de Territoire", "Start-Up de Territoire"),
    ],
)
def test_fixed_french_wording(french, msgid, expected):
    assert french.get(msgid).string == expected


# Proper names written with a straight apostrophe (the method's two kinds of
# workshop, as the method spells them; fixed above).
BRAND_NAMES = ("Star'Ter", "Boos'Ter")
IT_WORDS = re.compile(r"\b(instances?|serveurs?)\b", re.IGNORECASE)


def test_french_uses_typographic_apostrophes(french):
    """French shows ’ (never '), except in the method's proper names."""
    straight = []
    for message in french:
        for text in _strings(message):
            for name in BRAND_NAMES:
                text = text.replace(name, "")
            if "'" in text:
                straight.append(text)
    assert straight == []


# « : ; ! ? » at the end of a word or a sentence, after anything but a no-break
# space (ordinary or narrow); "19:00", "http://" or "(;)" are not punctuation.
FRENCH_MARK_WITHOUT_NBSP = re.compile(r"(?<![(\u00a0\u202f])[:;!?](?=\s|$|[»\"')\]])")


def test_french_puts_a_no_break_space_before_colons_and_question_marks(french):
    """French typography: « Porteurs : 1 » never breaks before its colon."""
    wrong = [
        text
        for message in french
        if message.id
        for text in _strings(message)
        if FRENCH_MARK_WITHOUT_NBSP.search(text)
    ]
    assert wrong == []


# A translated label followed by punctuation written outside the translation
# ("{{ _('Carriers') }}: 3", `${t.label}: `) prints "Porteurs: 3" in French.
PUNCTUATION_OUTSIDE = {
    "templates": (re.compile(r"\)\s*\}\}\s?[:;!?](?=\s|<|$)"), "**/*.html"),
    "static/js": (re.compile(r"\$\{t\.[\w.\[\]]+\}\s?[:;!?]"), "**/*.js"),
}


@pytest.mark.parametrize("folder", sorted(PUNCTUATION_OUTSIDE))
def test_punctuation_after_a_translated_label_is_part_of_the_translation(folder):
    pattern, glob = PUNCTUATION_OUTSIDE[folder]
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / folder).glob(glob))
        if "vendor" not in path.parts
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_french_speaks_to_organizers_without_it_words(french):
    """No "instance" or "serveur": « l’application », « cet ordinateur »,
    « l’ordinateur qui fait tourner la soirée »."""
    found = [text for message in french for text in _strings(message) if IT_WORDS.search(text)]
    assert found == []


def test_english_speaks_to_organizers_without_it_words(french):
    """Nor "instance" or "server" in the English (the catalog's ids)."""
    words = re.compile(r"\b(instances?|servers?)\b", re.IGNORECASE)
    found = {text for message in french for text in _ids(message) if text and words.search(text)}
    assert found == set()


# --- the language of the pages ---------------------------------------------------


@pytest.fixture
def get(client):
    """``client.get``: each request has its own application context, as in
    production (Flask-Babel caches the chosen locale in ``g``: a context
    shared by two requests would give the second the first one's language)."""
    return client.get


def _html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]*)"', response.get_data(as_text=True))
    assert match, "no <html lang> on the page"
    return match.group(1)


def _assert_french(response):
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _html_lang(response) == "fr"
    assert "Bienvenue" in page
    assert "Créer mon compte" in page
    assert "Mot de passe" in page  # a form label, translated lazily (_l)
    assert "Create my account" not in page


def _assert_english(response):
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _html_lang(response) == "en"
    assert "Welcome" in page
    assert "Create my account" in page
    assert "Password" in page
    assert "Bienvenue" not in page


def test_pages_are_french_by_default(get):
    _assert_french(get("/setup"))


def test_a_french_browser_gets_french(get):
    _assert_french(get("/setup", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))


def test_an_english_browser_gets_english(get):
    _assert_english(get("/setup", headers={"Accept-Language": "en-US,en;q=0.8"}))


def test_a_browser_in_another_language_gets_french(get):
    _assert_french(get("/setup", headers={"Accept-Language": "de-DE,de;q=0.9"}))


def test_the_language_switch_sets_a_cookie_and_returns_to_the_page(get):
    response = get("/lang/en?next=/setup")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/setup")
    assert "lang=en" in response.headers["Set-Cookie"]
    _assert_english(get("/setup"))
    # The choice wins over the browser's preference, and stays.
    _assert_english(get("/setup", headers={"Accept-Language": "fr-FR"}))

    response = get("/lang/fr?next=/setup")
    assert response.status_code == 302
    assert "lang=fr" in response.headers["Set-Cookie"]
    _assert_french(get("/setup"))
    _assert_french(get("/setup", headers={"Accept-Language": "en-US"}))


def test_the_switch_links_to_the_other_language(get):
    page = get("/setup").get_data(as_text=True)
    assert "/lang/en?next=" in page
    assert "/lang/fr?next=" not in page


def test_an_unknown_language_is_not_stored(get):
    response = get("/lang/xx?next=/setup")
    assert response.status_code == 302
    assert "lang=" not in response.headers.get("Set-Cookie", "")
    _assert_french(get("/setup"))


def test_an_unknown_language_in_the_cookie_falls_back_to_french(client, get):
    client.set_cookie("lang", "xx")
    _assert_french(get("/setup"))


def test_error_pages_are_translated(get):
    page = get("/this-page-does-not-exist").get_data(as_text=True)
    assert "Page introuvable" in page
    english = get("/this-page-does-not-exist", headers={"Accept-Language": "en"})
    assert "Not found" in english.get_data(as_text=True)
