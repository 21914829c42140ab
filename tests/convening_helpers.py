"""A 支援会議 個別ケース検討 for the tests of selected members and participants: three items
(public, and two confidential cases by case number), pledges for the secretary and the
chair of the 支援会議, and 兼務 三郎 (a member of the 支援会議) pledged too, so that only the
selection can keep the cases from him."""

from datetime import date

from renkei.models import Pledge, Visibility
from renkei.services import agenda
from tests.helpers import body_named, person_by_email
from tests.sessions_helpers import SUPPORT, make_session

CASE2 = "個別ケース検討：R8-0002"
CASE2_TEXT = "CASE2-DESCRIPTION-学校からの情報"
CASE3 = "個別ケース検討：R8-0003"
CASE3_TEXT = "CASE3-DESCRIPTION-家計の状況"
OPENING = "開会・連絡事項"
PLEDGED = ("secretary@example.jp", "chair.support@example.jp", "member.both@example.jp")


def pledge_all(db) -> None:
    support = body_named(db, SUPPORT)
    for email in PLEDGED:
        db.add(Pledge(person=person_by_email(db, email), body=support, pledged_on=date(2025, 4, 1)))
    db.commit()


def case_session(app, db, **kwargs):
    """The session, with its three items (positions 1 to 3) and the pledges."""
    with app.app_context():
        return _case_session(db, **kwargs)


def _case_session(db, **kwargs):
    secretary = person_by_email(db, "secretary@example.jp")
    support = body_named(db, SUPPORT)
    session = make_session(db, SUPPORT, title="支援会議 個別ケース検討", **kwargs)
    for title, visibility, text in (
        (OPENING, Visibility.PUBLIC, ""),
        (CASE2, Visibility.CONFIDENTIAL, CASE2_TEXT),
        (CASE3, Visibility.CONFIDENTIAL, CASE3_TEXT),
    ):
        agenda.add_item(
            db,
            session,
            agenda.ItemData(
                title=title,
                body_id=support.id,
                visibility=visibility.value,
                description=text,
                confirm_wider=True,  # the opening is public: the secretariat confirms it
            ),
            by=secretary,
        )
    pledge_all(db)
    db.commit()
    return session
