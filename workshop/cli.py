"""Command-line tools: ``flask --app workshop seed-demo``, ``backup``, ``restore``…"""

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from . import sqlite
from .extensions import db
from .models import Event, EventStatus, Organizer, Territory
from .services import accounts, archives, events, exports, journal
from .synthesis import suggest as suggestions

DEMO_EMAIL = "demo@example.org"
DEMO_PASSWORD = "demo-soiree-2026"

DEMO_TABLES = [
    {
        "name": "Mobilités rurales",
        "challenge": "territorial",
        "workshop_kind": "starter",
        "brief_title": "Se déplacer sans voiture dans le Haut-Bocage",
        "brief": (
            "Contexte : 38 % des ménages du territoire n’ont qu’une voiture pour deux "
            "actifs, la ligne de car ne passe que deux fois par jour et les jeunes "
            "renoncent à des formations faute de transport.\n"
            "Question : quel problème précis de mobilité, vécu ici, mérite qu’on "
            "crée une activité pour le résoudre ?"
        ),
        "facilitator_name": "Claire",
    },
    {
        "name": "Circuits courts alimentaires",
        "challenge": "creative",
        "workshop_kind": "starter",
        "brief_title": "Nourrir la cantine avec les fermes à moins de 30 km",
        "brief": (
            "Contexte : les cantines du territoire servent 2 400 repas par jour ; "
            "12 % des produits viennent de fermes locales. Les producteurs manquent "
            "de temps pour livrer, les cuisiniers d’un interlocuteur unique.\n"
            "Question : quelle solution, portée par une entreprise locale, "
            "rapprocherait fermes et cantines ?"
        ),
        "facilitator_name": "Mehdi",
    },
    {
        "name": "Tiers-lieu de la gare",
        "challenge": "prototyping",
        "workshop_kind": "booster",
        "brief_title": "Ouvrir un atelier partagé dans l’ancienne gare",
        "brief": (
            "Contexte : l’association « La Voie libre » veut ouvrir un atelier de "
            "réparation et de fabrication dans l’ancienne gare, rachetée par la commune.\n"
            "Question : quelles fonctions tester en premier, avec qui, et quel "
            "premier essai pourrait-on lancer d’ici trois mois ?"
        ),
        "facilitator_name": "Sophie",
    },
    {
        "name": "Bois local",
        "challenge": "creative",
        "workshop_kind": "starter",
        "brief_title": "Valoriser les haies bocagères",
        "brief": (
            "Contexte : 1 200 km de haies sont entretenues chaque année et le bois "
            "broyé part hors du territoire. Des chaufferies communales cherchent "
            "un approvisionnement régulier.\n"
            "Question : quelle activité locale pourrait transformer ce bois en "
            "revenus et en emplois ?"
        ),
        "facilitator_name": "Jean-Luc",
    },
    {
        "name": "Santé et soins",
        "challenge": "territorial",
        "workshop_kind": "starter",
        "brief_title": "Vieillir chez soi dans les hameaux",
        "brief": (
            "Contexte : un habitant sur trois a plus de 60 ans, deux médecins "
            "partent à la retraite l’an prochain, les aides à domicile font "
            "jusqu’à 150 km par jour.\n"
            "Question : quel besoin non couvert des personnes âgées isolées "
            "pourrait devenir une activité ?"
        ),
        "facilitator_name": "Nadia",
    },
]


# The demo territory's public-body settings (its evening opens only with them).
DEMO_BODY = {
    "public": {
        "body": "Communauté de communes du Haut-Bocage",
        "controller": "Communauté de communes du Haut-Bocage",
        "controller_contact": "1 place de la Mairie, Saint-Aubin · contact@haut-bocage.example",
        "dpo_contact": "dpo@haut-bocage.example",
        "accessibility_contact": "accessibilite@haut-bocage.example",
    }
}


def seed_demo() -> tuple[Organizer, str]:
    """Create the demo organizer, territory and evening; return the organizer
    and the evening's join code. Safe to run twice (it adds nothing then)."""
    organizer = db.session.scalar(select(Organizer).where(Organizer.email == DEMO_EMAIL))
    if organizer is None:
        territory = Territory(name="Pays du Haut-Bocage", population=42000, settings=DEMO_BODY)
        db.session.add(territory)
        organizer = accounts.create_organizer(
            "Organisatrice démo", DEMO_EMAIL, DEMO_PASSWORD, territory
        )
        db.session.commit()
    existing = events.events_for(organizer)
    if existing:
        return organizer, existing[0].join_code
    territory = organizer.territories[0]
    event = events.create_event(
        organizer,
        territory,
        "Start-Up de Territoire du Haut-Bocage",
        date.today() + timedelta(days=7),
        "Salle des fêtes de Saint-Aubin",
    )
    for fields in DEMO_TABLES:
        events.add_table(organizer, event, **fields)
    events.update_event(organizer, event, status=EventStatus.live)
    return organizer, event.join_code


def _refuse(message: str):
    """End the command with ``message`` (in the organizer's language, without
    click's English "Error:" before it)."""
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)


def _sqlite_file(app: Flask, refusal: str) -> str:
    """The app's SQLite database file; ``refusal`` for another database."""
    database = sqlite.database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database is None:
        _refuse(refusal)
    return database


# A JSON export of the largest evening is a few megabytes; past this the file
# is not one (and reading it whole would only fill the memory).
MAX_SUGGEST_INPUT_BYTES = 16 * 1024 * 1024


def _invalid_ideas_message(error: suggestions.InvalidIdeas) -> str:
    """The organizer's wording of why the ideas were refused."""
    p = error.params
    messages = {
        "not_a_list": lambda: _(
            'The file must hold a JSON list of ideas, each {"id", "text", "table", "brief"}.'
        ),
        "too_many": lambda: _(
            "At most %(max)d ideas at once (the file has %(count)d).",
            max=p["max"],
            count=p["count"],
        ),
        "not_an_object": lambda: _(
            'Idea %(position)d is not an object {"id", "text", "table", "brief"}.',
            position=p["position"],
        ),
        "missing_field": lambda: _(
            "Idea %(position)d has no “%(field)s”.", position=p["position"], field=p["field"]
        ),
        "bad_field": lambda: _(
            "Idea %(position)d: “%(field)s” must be text (an id may also be a number).",
            position=p["position"],
            field=p["field"],
        ),
        "too_long": lambda: _(
            "Idea %(position)d: “%(field)s” has more than %(max)d characters.",
            position=p["position"],
            field=p["field"],
            max=p["max"],
        ),
        "duplicate_id": lambda: _(
            "Idea %(position)d has the same id as an earlier one (%(id)s).",
            position=p["position"],
            id=p["id"],
        ),
    }
    return messages[error.code]()


def _read_ideas(source: str):
    """The JSON in ``source`` (a file, or - for the standard input), or the
    command ends with why it cannot be read."""
    if source == "-":
        raw = sys.stdin.buffer.read(MAX_SUGGEST_INPUT_BYTES + 1)
    else:
        path = Path(source)
        if not path.is_file():
            _refuse(_("There is no file %(file)s.", file=source))
        with path.open("rb") as stream:
            raw = stream.read(MAX_SUGGEST_INPUT_BYTES + 1)
    if len(raw) > MAX_SUGGEST_INPUT_BYTES:
        _refuse(
            _(
                "%(file)s is larger than %(max)d MB: it is not an export of ideas.",
                file=source,
                max=MAX_SUGGEST_INPUT_BYTES // 2**20,
            )
        )
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        _refuse(_("%(file)s is not UTF-8 text.", file=source))
    except (json.JSONDecodeError, RecursionError) as error:
        line, column = getattr(error, "lineno", 0), getattr(error, "colno", 0)
        _refuse(
            _(
                "%(file)s is not valid JSON (line %(line)d, column %(column)d).",
                file=source,
                line=line,
                column=column,
            )
        )


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False))
    @click.option("--lang", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
    def backup_command(target, lang):
        """Copy the database to TARGET, safely while the evening runs."""
        with force_locale(lang):
            database = _sqlite_file(
                app, _("This database is not SQLite: back it up with its own tools (pg_dump).")
            )
            sqlite.backup(database, target)
            # Listed on the evenings purged afterwards: this copy still holds their data.
            journal.record("cli", "database.backup", path=str(Path(target).resolve()))
            db.session.commit()
            click.echo(_("Backup saved to %(target)s and checked.", target=target))

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(dir_okay=False))
    @click.option("--lang", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
    def restore_command(source, lang):
        """Put the backup SOURCE in place of the database (the app stopped)."""
        with force_locale(lang):
            database = _sqlite_file(
                app, _("This database is not SQLite: restore it with its own tools (pg_restore).")
            )
            if not Path(source).is_file():
                _refuse(_("There is no file %(file)s. Nothing was changed.", file=source))
            try:
                aside = sqlite.restore(source, database)
            except sqlite.DatabaseInUse:
                _refuse(
                    _(
                        "The application is still running: stop it first (Ctrl+C in its "
                        "window), then run this command again. Nothing was changed."
                    )
                )
            except sqlite.NotABackup:
                _refuse(
                    _(
                        "%(file)s is not a backup of the application, or it is damaged. "
                        "Nothing was changed.",
                        file=source,
                    )
                )
            click.echo(_("Backup restored from %(file)s and checked: it is intact.", file=source))
            if aside:
                click.echo(_("The data as it was before is kept aside in %(file)s.", file=aside))
            click.echo(_("You can start the application again."))

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create a demo evening to try the app in one minute."""
        _organizer, code = seed_demo()
        click.echo(f"Demo evening ready (code {code}).")
        click.echo(f"Sign in at /login with {DEMO_EMAIL} / {DEMO_PASSWORD}")

    @app.cli.command("export")
    @click.argument("event_id", type=int)
    @click.argument("fmt", type=click.Choice(exports.FORMATS))
    @click.argument("target", type=click.Path(dir_okay=False))
    @click.option("--lang", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
    def export_command(event_id, fmt, target, lang):
        """Export the evening EVENT_ID in FMT to the file TARGET."""
        event = db.session.get(Event, event_id)
        if event is None:
            raise click.ClickException(f"No evening {event_id}.")
        header, rows = exports.gather(event)
        with force_locale(lang):
            content, _mime, _name = exports.render(
                header, rows, fmt, lambda context: render_template("backlog/report.html",
                                                                   locale=lang, **context)
            )  # fmt: skip
        Path(target).write_bytes(content)
        click.echo(f"Exported {event.title!r} ({fmt}, {len(content)} bytes) to {target}.")

    @app.cli.command("archive")
    @click.argument("event_id", type=int)
    @click.argument("target", type=click.Path(dir_okay=False))
    @click.option("--by", default="", help="Who makes the package (recorded in its manifest).")
    @click.option("--lang", default="fr", type=click.Choice(["fr", "en"]), show_default=True)
    def archive_command(event_id, target, by, lang):
        """Write the archive package of the evening EVENT_ID to TARGET (a ZIP
        file: the exports, the report, a manifest with each file's SHA-256)."""
        with force_locale(lang):
            event = db.session.get(Event, event_id)
            if event is None:
                _refuse(_("There is no evening %(id)d.", id=event_id))
            package = archives.build(event, None, by=by)
            Path(target).write_bytes(package.content)
            db.session.commit()
            click.echo(
                _("Archive package of “%(title)s” saved to %(target)s (SHA-256 %(sha256)s).",
                  title=event.title, target=target, sha256=package.sha256)
            )  # fmt: skip

    @app.cli.group("themes")
    def themes_group():
        """The evening's themes (suggestions computed on this computer)."""

    @themes_group.command("suggest")
    @click.argument("source", metavar="INPUT.json")
    @click.option(
        "--lang",
        default="fr",
        type=click.Choice(sorted(suggestions.STEMMERS)),
        show_default=True,
        help="The ideas' language, and the messages'.",
    )
    def themes_suggest_command(source, lang):
        """Print likely duplicates and suggested themes for the ideas of
        INPUT.json (a JSON list of {"id", "text", "table", "brief"}; - reads
        the standard input). Nothing leaves this computer."""
        with force_locale(lang):
            ideas = _read_ideas(source)
            try:
                result = suggestions.suggest(ideas, language=lang)
            except suggestions.InvalidIdeas as error:
                _refuse(_invalid_ideas_message(error))
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
