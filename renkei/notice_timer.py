"""The change notices' timer: every minute, in each server process, send the notices whose
few minutes of waiting for further changes are over (``services.notices.send_due``).

Started with the first request a process serves, so commands (migrate, send-mail) start
none. Several processes or servers may run it: a session's notices are claimed with a
conditional UPDATE, so each goes once. Without it (NOTICE_TIMER=0), cron runs
``flask --app renkei send-notices`` every minute instead.
"""

import threading
import time

from flask import Flask

from renkei.db import get_db
from renkei.links import Links
from renkei.services import mail, notices

INTERVAL = 60  # seconds


def start_once(app: Flask) -> None:
    """Start this process's timer, the first time it is asked."""
    with _lock:
        if app.extensions.get("notice_timer"):
            return
        app.extensions["notice_timer"] = True
    threading.Thread(target=_run, args=(app,), name="renkei-notices", daemon=True).start()


_lock = threading.Lock()


def _run(app: Flask) -> None:
    while True:
        time.sleep(INTERVAL)
        try:
            send_due(app)
        except Exception:  # the next minute tries again; the log says why
            app.logger.exception("sending change notices failed")


def send_due(app: Flask) -> mail.QueueResult:
    """Queue, commit and deliver the notices that are due (also the CLI's)."""
    with app.app_context():
        settings = mail.MailSettings.from_config(app.config, app.instance_path)
        db = get_db()
        delay = notices.configured_delay(app.config.get("NOTICE_DELAY_MINUTES"))
        queued = notices.send_due(db, links=Links.of(app), sender=settings.sender, delay=delay)
        db.commit()
        if queued.messages:
            mail.deliver(db, settings, queued.ids)
        return queued
