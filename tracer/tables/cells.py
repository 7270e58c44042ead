"""Typed cells: strings that remember what they were in the source.

Every cell is a ``str`` so the rest of tracer (columns, marks, canaries)
handles one type; the subclasses only tell a writer to put a number back as a
number, a date back as a date and a JSON literal back verbatim, so an export
keeps its source's types.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

_EXCEL_DIGITS = 15  # Excel shows (and keeps) 15 significant digits


class NumberText(str):
    """A cell that was a number in the source (JSON number literal, xlsx
    numeric cell).  Its text is the number as shown ('12.5', '13800138000'),
    never in scientific notation when avoidable; writers write it back as a
    number."""

    __slots__ = ()


class DateText(str):
    """A cell that was a date/datetime cell in xlsx, as 'YYYY-MM-DD HH:MM:SS'
    (or 'YYYY-MM-DD' when the time is midnight).  Writers write it back as a
    datetime cell."""

    __slots__ = ()


class JsonLiteral(str):
    """A JSON value that is neither string nor number (true, false, null, a
    nested object or array).  The text is what other modules see ('' for
    null); ``raw`` is the JSON written back, so such values survive an export
    unchanged.  Internal to tracer.tables: callers treat it as text."""

    raw: str

    def __new__(cls, text: str, raw: str) -> "JsonLiteral":
        self = super().__new__(cls, text)
        self.raw = raw
        return self


def format_number(value: int | float) -> str:
    """Show a number as a user sees it in Excel: integral floats without
    '.0' (a phone stored as 13800138000.0 must read '13800138000'), at most
    15 significant digits, and no exponent so digit-based marks and phone
    recognition see the digits."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    shown = f"{value:.{_EXCEL_DIGITS}g}"
    if "e" in shown or "E" in shown:
        shown = format(Decimal(shown), "f")
    return shown


# A number written as a float: with a decimal point, an exponent or both
# ('13812345678.0', '1.3812345678E+10'); bounded, since no phone or identifier
# is longer and Decimal and int work in time quadratic in the digits.
_FLOAT_TEXT = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE]\+?[0-9]{1,2})?")
_FLOAT_TEXT_MAX = 40
# Significant digits beyond what any rounding display shows (Excel's General
# format and %g show 6, C's %e 7): a mantissa this long is a shortest
# round-trip form, as Java's Double.toString writes 13800138000 ('1.3800138E10').
_EXACT_DIGITS = 8


def exact_integer(text: str) -> str | None:
    """The digits of an integer that a spreadsheet or a script wrote as a
    float: '13812345678.0', '1.3812345678E+10' and '1.3812345678E10' are
    the phone 13812345678.  A plain integer comes back as it is.

    None when the text is not such a number, is not integral, or was rounded
    for display: Excel shows every phone from 13812250000 to 13812349999 as
    '1.38123E+10', and guessing one would make up a phone.  An exponent form
    is exact when it spells out every digit of the integer, or shows more
    digits than a display rounds to.  None too past 2**53, where a float no
    longer holds every integer: an 18-digit identifier that went through one
    is lost for good.
    """
    text = text.strip()
    if len(text) > _FLOAT_TEXT_MAX or _FLOAT_TEXT.fullmatch(text) is None:
        return None
    if text.isdigit():
        return text
    number = Decimal(text)
    if number != number.to_integral_value() or number >= 2**53:
        return None
    shape = number.as_tuple()
    if shape.exponent > 0 and len(shape.digits) < _EXACT_DIGITS:
        return None
    return str(int(number))


def number_value(text: str) -> int | float | None:
    """The numeric value of a NumberText for writers, or None if a caller
    turned it into something that is no longer a number."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == number.to_integral_value() and abs(number) < 2**53:
        return int(number)
    return float(number)


def format_datetime(value: dt.datetime | dt.date) -> str:
    """'YYYY-MM-DD' for a date (or a datetime at midnight), else
    'YYYY-MM-DD HH:MM:SS' with a fraction only when there is one."""
    if not isinstance(value, dt.datetime):
        return value.isoformat()
    if value.time() == dt.time(0, 0):
        return value.date().isoformat()
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text


def format_duration(value: dt.timedelta) -> str:
    """A duration cell as Excel shows it in '[h]:mm:ss': hours past 24 are
    not days ('36:00:37'), a fraction of a second only when there is one."""
    sign = "-" if value < dt.timedelta(0) else ""
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    text = f"{sign}{hours}:{minute:02d}:{second:02d}"
    if micro:
        text += f".{micro:06d}".rstrip("0")
    return text


_DATE_TEXT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?"
)


def parse_datetime(text: str) -> dt.datetime | None:
    """Inverse of :func:`format_datetime` for writers; None when a caller
    changed the text into something that is no longer such a date."""
    match = _DATE_TEXT.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(6, "0"))
    try:
        return dt.datetime(
            int(year), int(month), int(day),
            int(hour or 0), int(minute or 0), int(second or 0), micro,
        )
    except ValueError:
        return None


def is_date_only(text: str) -> bool:
    """True for 'YYYY-MM-DD' without a time, so writers pick a date format."""
    return len(text.strip()) == 10
