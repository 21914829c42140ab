"""Organisations (機関): list, create and edit (administrators)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from renkei.blueprints.common import get_or_404, me, render_form, require
from renkei.blueprints.fields import InputForm
from renkei.blueprints.once import once, remember
from renkei.blueprints.transaction import shown_on
from renkei.db import get_db
from renkei.i18n import gettext as _
from renkei.i18n import lazy_gettext as _l
from renkei.models import Organisation, OrganisationKind
from renkei.models.organisations import MUNICIPALITY_LENGTH
from renkei.services import organisations, policy

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


class OrganisationForm(InputForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    kind = SelectField(_l("Kind"), choices=OrganisationKind.choices)
    municipality = StringField(
        _l("Municipality"),
        description=_l(
            "The city, town or village it belongs to, such as さくら町: shown beside its "
            "members on bodies that draw members from several municipalities."
        ),
        validators=[Length(max=MUNICIPALITY_LENGTH, message=_l("Use at most %(max)d characters."))],
    )
    contact = TextAreaField(
        _l("Contact"),
        description=_l("Address, telephone, e-mail: what members need to reach it."),
        validators=[Length(max=2000, message=_l("Use at most %(max)d characters."))],
    )


@bp.route("/")
@login_required
def index():
    return render_template(
        "organisations/index.html",
        organisations=organisations.list_organisations(get_db()),
        can_manage=policy.can_manage_organisations(me()),
    )


def _save(organisation: Organisation | None):
    db = get_db()
    require(policy.can_manage_organisations(me()))
    form = OrganisationForm(obj=organisation if request.method == "GET" else None)
    if form.validate_on_submit():
        with shown_on(form) as done:
            organisations.save_organisation(
                db,
                organisation,
                name=form.name.data,
                kind=form.kind.data,
                contact=form.contact.data or "",
                municipality=form.municipality.data or "",
                by=me(),
            )
        if done:
            if organisation is None:
                remember(url_for("organisations.index"))
            flash(_("The organisation has been saved."), "success")
            return redirect(url_for("organisations.index"))
    return render_form("organisations/form.html", form, organisation=organisation)


@bp.route("/new", methods=["GET", "POST"])
@login_required
@once
def new():
    return _save(None)


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(organisation_id: int):
    return _save(get_or_404(Organisation, organisation_id))
