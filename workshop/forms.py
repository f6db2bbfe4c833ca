"""Web forms (WTForms, with CSRF protection from Flask-WTF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional

from .models import ActorCategory, Challenge, WorkshopKind
from .services.accounts import MIN_PASSWORD_LENGTH
from .services.live import CATEGORY_LABELS, MAX_BRINGS_LENGTH, MAX_NAME_LENGTH


def challenge_choices():
    return [
        (Challenge.territorial.value, _l("Territorial challenge (D1: define a problem)")),
        (Challenge.creative.value, _l("Creative challenge (D2: find a solution)")),
        (Challenge.prototyping.value, _l("Prototyping challenge (D3: develop and test)")),
    ]


def workshop_kind_choices():
    return [
        (WorkshopKind.starter.value, _l("Star'Ter (starts from a theme)")),
        (WorkshopKind.booster.value, _l("Boos'Ter (starts from a project and its carrier)")),
    ]


def category_choices():
    return [(category.value, label) for category, label in CATEGORY_LABELS.items()]


def join_category_choices():
    """The join form's choices: none chosen for the participant, and saying
    nothing is a choice of its own (counted apart, never as a citizen)."""
    said = [c for c in category_choices() if c[0] != ActorCategory.not_said.value]
    return [
        ("", _l("Choose…")),
        *said,
        (ActorCategory.not_said.value, _l("I prefer not to say")),
    ]


# Every DataRequired says what is missing in the app's words, never WTForms'
# "This field is required." (tests/test_routes.py checks it).


class SetupForm(FlaskForm):
    name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Please give your name.")), Length(max=200)]
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Please give your email address.")),
            Email(message=_l("This is not an email address.")),
            Length(max=254),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(min=MIN_PASSWORD_LENGTH, max=200),
        ],
    )
    territory = StringField(
        _l("Territory"),
        validators=[DataRequired(_l("Please name your territory.")), Length(max=200)],
    )
    population = IntegerField(
        _l("Inhabitants (optional)"), validators=[Optional(), NumberRange(min=0)]
    )


class SetupCodeForm(SetupForm):
    """Set-up from another device than the server's own computer."""

    setup_code = StringField(
        _l("Setup code"),
        validators=[DataRequired(_l("Please type the setup code.")), Length(max=40)],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please type your current password."))],
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Please choose a new password.")),
            Length(min=MIN_PASSWORD_LENGTH, max=200),
        ],
    )
    confirm = PasswordField(
        _l("New password, again"),
        validators=[
            DataRequired(_l("Please type the new password again.")),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Please give your email address."))]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please type your password."))]
    )


class EventForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Please give the evening a title.")), Length(max=200)],
    )
    date = DateField(_l("Date"), validators=[Optional()])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    territory_id = SelectField(_l("Territory"), coerce=int)
    language = SelectField(
        _l("Language of the evening"),
        choices=[("fr", "Français"), ("en", "English")],
        # Checked by the service; a form without it keeps the organizer's language.
        validate_choice=False,
    )


class TableForm(FlaskForm):
    name = StringField(
        _l("Table name"),
        validators=[DataRequired(_l("Please give the table a name.")), Length(max=200)],
    )
    challenge = SelectField(_l("Challenge"), choices=challenge_choices)
    workshop_kind = SelectField(_l("Kind of workshop"), choices=workshop_kind_choices)
    brief_title = StringField(
        _l("Brief title"),
        validators=[DataRequired(_l("Please give the brief a title.")), Length(max=200)],
    )
    brief = TextAreaField(
        _l("Prepared brief (theme, context, question)"),
        validators=[
            DataRequired(_l("Please write the brief: the table never starts from a blank page.")),
            Length(max=5000),
        ],
        render_kw={"rows": 10},  # a theme, its context and a question: room to write them
    )
    facilitator_name = StringField(_l("Facilitator"), validators=[Optional(), Length(max=200)])
    capacity = IntegerField(
        _l("Seats"),
        default=10,
        validators=[
            DataRequired(_l("Please give the number of seats.")),
            NumberRange(min=1, max=100, message=_l("A table has from 1 to 100 seats.")),
        ],
    )


class JoinForm(FlaskForm):
    # Its label names the territory's age of minors (set by the page).
    minor = BooleanField(_l("I am under 15"))
    display_name = StringField(
        _l("Your name or a pseudonym"),
        validators=[
            DataRequired(_l("Please give a name or a pseudonym.")),
            Length(max=MAX_NAME_LENGTH),
        ],
    )
    category = SelectField(
        _l("You are here as"),
        choices=join_category_choices,
        default="",
        validators=[DataRequired(_l("Choose an answer, or “I prefer not to say”."))],
    )
    brings = StringField(
        _l("What I bring (optional)"), validators=[Optional(), Length(max=MAX_BRINGS_LENGTH)]
    )


class CodeForm(FlaskForm):
    # A GET form: no CSRF token needed, nothing changes.
    class Meta:
        csrf = False

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Please type the code shown on the table tent.")),
            Length(max=16),
        ],
    )
