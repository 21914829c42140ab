"""Names vulture (``make deadcode``, configured in pyproject.toml) would report as unused
that are used where it does not look. Add a name here only when it is used like these;
code nothing uses is deleted instead.

Routes, CLI commands, SQLAlchemy event listeners and compilers and the Flask-Login user
loader are registered by their decorators (``ignore_decorators`` in pyproject.toml)."""

# ruff: noqa
_ = object()

# Read by Flask, Werkzeug, Flask-Login, Click, WTForms and SQLAlchemy, not by Renkei's code.
_.request_class  # Flask: the app's request class (renkei/app.py)
parameter_storage_class  # Werkzeug: the request's form and query dicts (renkei/app.py)
_.mimetype  # responses
_.content_type  # responses
_.content_encoding  # responses
_.max_content_length  # Werkzeug: a request's size limit (renkei/blueprints/materials.py)
_.login_view  # Flask-Login settings (renkei/blueprints/auth.py)
_.login_message
_.login_message_category
_.session_protection
_.get_id  # Flask-Login's user protocol (renkei/models/people.py)
_._login_user  # Flask-Login's current user on g (renkei/errors.py sets it)
_.version_string  # Click: `renkei --version` (renkei/cli.py)
Meta  # WTForms form options (renkei/blueprints/fields.py)
_.validate_item_ids  # WTForms runs validate_<field> methods (renkei/blueprints/attendance.py)
confirm  # a form field: templates render it, EqualTo("password") reads it
widget  # WTForms field classes (renkei/blueprints/sessions.py)
option_widget
field_flags  # WTForms reads a validator's flags (renkei/blueprints/fields.py: Required)
impl  # SQLAlchemy TypeDecorator (renkei/db.py)
inherit_cache  # SQLAlchemy: a construct's SQL may be cached (renkei/db.py)
cache_ok
_.process_bind_param
_.process_result_value
_.dt  # icalendar: setting an event's time (renkei/services/calendar.py)

# Mapped columns and relationships that are written, or read only in SQL and migrations.
attendance_id
agenda_item
previous_hash
children
built_at
sent_at
submitted_at
approved_at
updated_by_id
recorded_by
set_by_id  # who chose the members convened (models/convening.py), for the record
set_at
added_by_id
closed_at
_.deleted_by_id  # the record of who deleted a material (services/materials.py)
uploaded_by_id  # set by keyword (services/materials.py), the record of who uploaded
source_session_id  # the session a local issue was raised from (models/local_issues.py)

# Read only by templates.
_.replaced  # Material: materials/_list.html, materials/manage.html
_.uploaded_at  # MaterialVersion: materials/_list.html, materials/manage.html
_.uploaded_by
_.sample  # Plan.sample: the convening notice's preview (convening/convene.html)
_.chosen_slot  # polls/show.html
_.status_label  # polls/index.html, polls/show.html
_.minutes_long  # agenda/_items.html
unrecorded  # apportionment/index.html
sessions_this_month  # home/index.html
replies_outstanding
awaiting_replies
awaiting_approval
awaiting  # ChairTile.awaiting: home/index.html
_.new_people  # memberships/import.html
declined  # polls/show.html
_.quorate
_.quorate_likely
_.unanswered  # polls/show.html, sessions/show.html
_.from_status  # ReferralEvent: referrals/show.html
_.to_status
_.chart_for  # AnnualReport: reports/show.html
_.numeric  # Column: reports/show.html
_.last_attempt  # Backlog: _mail_backlog.html

# Written for operators who look into the database, read by no code.
_.claimed_by  # MailMessage: which host:pid holds the lease
_.can_see_invitees  # sessions/show.html
_.can_see_online_link  # sessions/show.html
_.answers_online  # letters/_letters.html
comment_shown  # minutes/edit.html
in_range  # sessions/_day.html (session_list.Day)
is_today
_.is_sunday
_.is_saturday
_.audit_origin  # set on flask.g and read back by name (renkei/blueprints/transaction.py)
_.compress_type  # zipfile reads a ZipInfo's settings (renkei/services/zip_stream.py)
_.file_size
_.writable  # io reads it of a raw stream (renkei/services/zip_stream.py)
__getitem__  # a Protocol's method: what a row mapping offers (renkei/services/audit_chain.py)

# Read only by tests, which check through them what moving and cancelling occurrences of a
# series do (tests/services/test_series.py).
exdates
overrides

# Meeting materials' building blocks (issue 20), tested on their own; the materials routes call
# them once wired: delete these lines then.
merge_numbered  # renkei/services/pdf_tools.py

# openpyxl reads what a cell, a sheet and the workbook are set to when it writes the file
# (renkei/services/report_workbook.py).
_.font
_.border
_.alignment
_.data_type
_.number_format
_.freeze_panes
_.print_title_rows
_.paperSize
_.orientation
_.fitToWidth
_.fitToHeight
_.pageSetUpPr
_.creator
_.modified
_.external_attr  # zipfile reads a ZipInfo's settings too

# Search: the results and the link of each, read by templates/search/index.html.
_.hits
search_link
_.is_last  # sessions.InviteePage, read by sessions/show.html

# scheduling.upcoming_for: the sessions as objects, which the tests read (the pages and the
# feed read them as rows: upcoming_rows, upcoming_rows_for).
upcoming_for
_.kinds  # search.Results, read by search/index.html
_.capped  # search.Results, read by search/index.html
