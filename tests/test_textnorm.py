"""The one normalisation of incoming text (renkei.textnorm) and where it is applied: every
form's text fields (renkei.blueprints.fields.InputForm) and every text column written
through the ORM (renkei.db)."""

import inspect as pyinspect

import pytest
import wtforms
from flask_wtf import FlaskForm

from renkei import textnorm
from renkei.blueprints import fields
from renkei.models import Organisation, OrganisationKind, Person
from renkei.services import audit, audit_chain

# Every character of the finding (issue 15 item 7), and the other controls.
BREAKS = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
OTHERS = ["\x00", "\x01", "\x1b", "\x7f", "\x80", "\x9f", "\t"]


@pytest.mark.parametrize("character", BREAKS + OTHERS)
def test_one_line_turns_every_control_into_one_space(character):
    assert textnorm.one_line(f"定例{character}会議") == "定例 会議"
    assert textnorm.one_line(f"{character}定例会議{character}") == "定例会議"


def test_one_line_collapses_a_run_with_the_spaces_around_it_and_keeps_other_spaces():
    assert textnorm.one_line("事務 \r\n\x00  花子") == "事務 花子"
    assert textnorm.one_line("  事務　花子  ") == "事務　花子"  # an ideographic space inside
    assert textnorm.one_line("A  B") == "A  B"  # typed spaces are the typist's


@pytest.mark.parametrize("character", ["\r\n", "\r", "\n", "\x85", "\u2028", "\u2029"])
def test_multi_line_makes_every_line_break_lf(character):
    assert textnorm.multi_line(f"一行目{character}二行目") == "一行目\n二行目"


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x0c", "\x1c", "\x1e", "\x7f", "\x9f"])
def test_multi_line_drops_other_controls_and_keeps_tab_and_indentation(character):
    assert textnorm.multi_line(f"- 項目{character}\n\t  続き ") == "- 項目\n\t  続き "


def test_both_compose_a_decomposed_accent():
    assert textnorm.one_line("Rene\u0301e") == "Renée" == "Ren\u00e9e"
    assert textnorm.multi_line("ガ") == "ガ"  # カ + combining voiced mark


def test_normalising_twice_changes_nothing_more():
    messy = "\x00 題\r\n名\u2028e\u0301\x7f\t"
    for normalise in (textnorm.one_line, textnorm.multi_line):
        once = normalise(messy)
        assert normalise(once) == once


def test_anything_but_text_is_left_alone():
    assert textnorm.one_line(None) is None and textnorm.multi_line(3) == 3


# --- Forms ----------------------------------------------------------------------------------


def test_each_kind_of_field_gets_its_normalisation():
    assert fields.text_filter(wtforms.StringField) is textnorm.one_line
    assert fields.text_filter(wtforms.EmailField) is textnorm.one_line
    assert fields.text_filter(wtforms.TextAreaField) is textnorm.multi_line
    # Passwords are compared as typed; hidden fields carry the app's own values (the member
    # import's whole CSV text among them); dates and numbers are no text.
    for untouched in (wtforms.PasswordField, wtforms.HiddenField, wtforms.DateField):
        assert fields.text_filter(untouched) is None
    # A link keeps what is inside it, so that the service can refuse a broken one.
    address = fields.text_filter(wtforms.URLField)
    assert address(" https://a.example/cafe\u0301 \r\n") == "https://a.example/caf\u00e9"
    assert address("https://a.example/\r\nx") == "https://a.example/\r\nx"


def _form_classes(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def test_every_form_of_the_app_normalises_its_text(app):
    """A form class that forgot InputForm would take control characters as typed."""
    forms = [c for c in _form_classes(FlaskForm) if c.__module__.startswith("renkei.")]
    assert len(forms) > 20
    strays = [f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, fields.InputForm)]
    assert not strays, strays
    # A sub-form (a poll's slot row) is a plain wtforms.Form: it may hold no text field,
    # unless it is a RowForm (an attendance line), which normalises as InputForm does.
    for module in {pyinspect.getmodule(c) for c in forms}:
        for name, sub in vars(module).items():
            if isinstance(sub, type) and issubclass(sub, wtforms.Form):
                if issubclass(sub, FlaskForm | fields.RowForm):
                    continue
                if not sub.__module__.startswith("renkei."):
                    continue
                texts = [f for f in vars(sub).values() if _is_text(f)]
                assert not texts, f"{name} has text fields but is no InputForm"


def _is_text(value) -> bool:
    return isinstance(value, wtforms.fields.core.UnboundField) and issubclass(
        value.field_class, wtforms.StringField
    )


def test_a_form_normalises_before_it_validates(app):
    class Probe(fields.InputForm):
        title = wtforms.StringField(validators=[wtforms.validators.DataRequired()])
        notes = wtforms.TextAreaField(validators=[wtforms.validators.Length(max=5)])
        secret = wtforms.PasswordField()

    from werkzeug.datastructures import MultiDict

    with app.test_request_context(method="POST"):
        form = Probe(
            MultiDict({"title": "\x00\r\n", "notes": "a\r\nb\r\nc", "secret": " p\x00w "}),
            meta={"csrf": False},
        )
        assert not form.validate()
        assert "title" in form.errors and "notes" not in form.errors  # "a\nb\nc" is 5 long
        assert form.notes.data == "a\nb\nc"
        assert form.secret.data == " p\x00w "


# --- The database -------------------------------------------------------------------------


def test_text_columns_are_normalised_when_written(db):
    organisation = Organisation(
        name="社会\r\n福祉\x00協議会",
        kind=OrganisationKind.SOCIAL_WELFARE_COUNCIL,
        contact="電話\r\n\x0c内線 12\u2028",
    )
    db.add(organisation)
    db.commit()
    db.expire_all()
    assert organisation.name == "社会 福祉 協議会"
    assert organisation.contact == "電話\n内線 12\n"

    organisation.contact = "窓口\x0b"
    db.commit()
    db.expire_all()
    assert (organisation.name, organisation.contact) == ("社会 福祉 協議会", "窓口")
    assert organisation.kind is OrganisationKind.SOCIAL_WELFARE_COUNCIL  # enums untouched


def test_only_what_changed_is_looked_at(db):
    """A row stored before normalisation is left as it was unless that field is written."""
    person = Person(name="山田 太郎")
    db.add(person)
    db.commit()
    db.execute(Person.__table__.update().values(kana="やまだ\x0bたろう"))
    db.commit()
    db.expire_all()
    person.phone = "012\r\n"
    db.commit()
    db.expire_all()
    assert person.phone == "012" and person.kana == "やまだ\x0bたろう"


def test_the_audit_chain_hashes_the_text_as_stored(app, db):
    with app.app_context():
        actor = audit.Actor(None, ip="127.0.0.1", name="x\r\n@example.jp")
        entry = audit.record(db, actor, audit.ACCOUNT, "login", detail="行1\r\n行2\x00")
        db.commit()
        db.expire_all()
        assert entry.actor == "x @example.jp" and entry.detail == "行1\n行2"
        assert audit_chain.verify(db).ok


def test_a_row_form_normalises_and_names_its_fields_after_its_row():
    class Row(fields.RowForm):
        note = wtforms.StringField(validators=[wtforms.validators.Length(max=5)])

    from werkzeug.datastructures import MultiDict

    row = Row(MultiDict({"note-7": "a\r\nb\x00c", "note-8": "other row"}), key=7)
    assert row.note.name == "note-7"
    assert row.validate() and row.note.data == "a b c"  # 6 characters as typed
