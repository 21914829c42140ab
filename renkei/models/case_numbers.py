"""Case numbers (ケース番号): the last number issued per prefix and fiscal year."""

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from renkei.db import Base

# The longest case number: a prefix of 10, the era and year (R99), a sequence of 6 digits.
CASE_NUMBER_LENGTH = 24


class CaseNumberCounter(Base):
    """One row per prefix and fiscal year; ``last`` is raised by one UPDATE per number
    issued, so that two requests never issue the same number (services/case_numbers.py)."""

    __tablename__ = "case_number_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
