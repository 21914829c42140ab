"""Enumerations whose members carry a translated label for the interface."""

import functools
from enum import StrEnum
from typing import Self

from wtforms import SelectChoice

from renkei.i18n import LazyText


class LabelledEnum(StrEnum):
    """A StrEnum (stored by value) whose members have a translated label from ``_labels()``."""

    @classmethod
    def _labels(cls) -> dict[Self, LazyText]:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return str(_labels_of(type(self))[self])

    @classmethod
    def choices(cls) -> list[SelectChoice]:
        """Choices for a form field. The labels stay lazy: forms are defined at import, and
        each page must show them in the language of its request."""
        labels = cls._labels()
        return [SelectChoice(member.value, labels[member]) for member in cls]


@functools.cache
def _labels_of(enum_class: type[LabelledEnum]) -> dict[LabelledEnum, LazyText]:
    # The lazy strings translate when shown, so one dict per class serves every language.
    return enum_class._labels()
