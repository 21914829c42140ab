"""Fixtures shared by the service tests."""

import pytest

from tests.helpers import person_by_email


@pytest.fixture
def ctx(app):
    """An application context, for services that translate or read the app's settings."""
    with app.app_context():
        yield


@pytest.fixture
def secretary(world):
    """The demo town's secretary (secretary@example.jp)."""
    return person_by_email(world, "secretary@example.jp")
