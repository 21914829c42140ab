"""The secretary's tile on the home page."""

from renkei.services import dashboard
from tests.sessions_helpers import LAYER1, SUPPORT, make_session


def test_the_tile_lists_the_sessions_whose_notice_is_still_to_be_sent(world, secretary):
    prepared = make_session(world, SUPPORT, convened=False, title="準備中の会議")
    make_session(world, LAYER1, title="招集済の会議")
    tile = dashboard.secretary_tile(world, secretary)
    assert tile is not None
    assert [s.id for s in tile.to_convene] == [prepared.id]
