"""The demo town that `make run` loads: sessions, and minutes to read and print."""

from sqlalchemy import select

from renkei.models import MeetingSession, MinutesStatus, MinutesVersion, Status
from renkei.services import demo, minutes


def test_demo_has_sessions_and_approved_minutes(app, db):
    with app.app_context():
        demo.load(db)
        db.commit()
        version = db.scalars(select(MinutesVersion)).one()
        assert version.status == MinutesStatus.APPROVED
        assert version.content_hash == minutes.content_hash(version)
        assert version.minutes.session.status == Status.HELD
        assert db.scalars(
            select(MeetingSession).where(MeetingSession.status == Status.SCHEDULED)
        ).all()
