"""`flask material-text`: the text of materials' files stored before their text was read on
upload (migration 0027), read for the search."""

import io

from sqlalchemy import select, update

from renkei.models import MaterialVersion
from renkei.services import materials
from renkei.services.material_store import store_of
from tests.helpers import person_by_email
from tests.sessions_helpers import SUPPORT, make_session


def test_the_command_reads_the_texts_not_read_yet(app, world):
    secretary = person_by_email(world, "secretary@example.jp")
    with app.app_context():
        session = make_session(world, SUPPORT)
        for n in range(3):
            materials.upload(
                world,
                session,
                materials.Upload(io.BytesIO(f"議事メモ{n}".encode()), f"メモ{n}.txt"),
                by=secretary,
                store=store_of(app),
                limits=materials.Limits.of(app),
            )
    world.commit()
    world.execute(update(MaterialVersion).values(text=None))
    world.commit()

    result = app.test_cli_runner().invoke(args=["material-text"])

    assert result.exit_code == 0, result.output
    assert "material texts read: 3" in result.output
    world.expire_all()
    texts = world.scalars(select(MaterialVersion.text).order_by(MaterialVersion.id))
    assert list(texts) == ["議事メモ0", "議事メモ1", "議事メモ2"]
    again = app.test_cli_runner().invoke(args=["material-text"])
    assert "material texts read: 0" in again.output
