"""A seat as a seller types it: section, row and number, or a standing place."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.errors import DomainError
from services.text import MAX_INPUT, is_bad_char, strip_edges

SEAT_PART_MAX_LENGTH = 30

ERROR_CODES: tuple[str, ...] = (
    # parse_seat
    "seat.unparsed",
    "seat.too_long",  # field ("section", "row" or "number"), max_length
    "seat.bad_chars",
)


@dataclass(frozen=True, slots=True)
class Seat:
    """Where the ticket sits; all parts None and `standing` for a standing place (its zone's name in `section`)."""

    section: str | None
    row: str | None
    number: str | None
    standing: bool = False

    @property
    def section_is_code(self) -> bool:
        """The section is a short code ("A", "12") that reads with a label before it ("Section A")."""
        return self.section is not None and _SHORT_CODE.fullmatch(self.section) is not None


_SHORT_CODE = re.compile(r"[0-9A-Za-zА-Яа-яЁё]{1,4}")
_STANDING_ONLY = {
    "-", "—", "–", "танцпол", "фан зона", "фанзона", "стоячее", "стоячие", "стоячий", "стоя", "без места",
    "standing", "standing only", "general admission", "ga", "no seat", "dance floor", "fan zone",
}  # fmt: skip
_STANDING_ZONE = re.compile(r"(?:танцпол|фан[ -]?зона|dance ?floor|fan ?zone|standing|general admission)\b.*")
_VALUE = r"(?:\d{1,4}[a-zа-я]?|[a-zа-я]{1,2}\d{0,3})"
_ROW_LABEL = r"(?:ряд|row|р\.|р(?=\s*\d)|r\.|r(?=\s*\d))"
_SEAT_LABEL = r"(?:места|место|кресло|seat|м\.|м(?=\s*\d))"
_ROW_FIRST = re.compile(rf"(?<![\w]){_ROW_LABEL}\s*(?:№\s*)?(?P<v>{_VALUE})(?![\w])")
_SEAT_FIRST = re.compile(rf"(?<![\w]){_SEAT_LABEL}\s*(?:№\s*)?(?P<v>{_VALUE})(?![\w])")
_ROW_AFTER = re.compile(rf"(?<![\w])(?P<v>{_VALUE})(?:-?(?:й|ой|ий))?\s*(?:ряд|row)(?![\w])")
_SEAT_AFTER = re.compile(rf"(?<![\w])(?P<v>{_VALUE})(?:-?(?:е|ое))?\s*(?:место|seat)(?![\w])")
_ENDS_WITH_LABEL = re.compile(r"(?:ряд|row|место|seat)\W*$")
_ANY_LABEL = re.compile(r"(?<![\w])(?:ряд|row|места|место|кресло|seat)(?![\w])")
_SECTION_LABEL = re.compile(r"^(?:сектор|секция|section|sector|sect|sec)\.?\s*(?:№\s*)?")
_SECTION_WORDS = re.compile(
    r"(?<![\w])(?:сектор|секция|section|sector|ложа|балкон|партер|амфитеатр|бельэтаж|бенуар|мезонин|галерея"
    r"|ярус|трибуна|блок|зона|vip|box|block|zone|stand|tribune|balcony|stalls|circle|gallery|tier|level|floor)"
)


def _lower(text: str) -> str:
    """Lower case (ё as е) with the length kept, so that positions in it are positions in `text`."""
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text).replace("ё", "е")


def _seat_part(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip(" ,;:/-")
    if not value:
        return None
    if len(value) > SEAT_PART_MAX_LENGTH:
        raise DomainError("seat.too_long", field=field, max_length=SEAT_PART_MAX_LENGTH)
    return value


def _section_of(leftover: str) -> str | None:
    section = leftover.strip(" ,;:/-")
    low = _lower(section)
    stripped = _SECTION_LABEL.sub("", low)
    if stripped != low and _SHORT_CODE.fullmatch(stripped):
        section = section[len(section) - len(stripped) :]  # "Сектор A" -> "A"
    return _seat_part(section, "section")


def parse_seat(text: str) -> Seat:
    """ "-" or a standing word (танцпол, фан-зона, стоячее, standing) -> a standing Seat; a named standing zone
    ("Фан-зона A") keeps its name as the section. Seated: "Партер, ряд 5, место 12", "Section A row 5 seat 12",
    "5 ряд 12 место", "ряд 5 место 12", "A/5/12" (section/row/seat), "5/12" (row/seat), or a section alone when it
    names one ("Ложа 3", "Сектор B"). Each part at most 30 characters."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise DomainError("seat.unparsed")
    stripped = strip_edges(text)
    if any(is_bad_char(ch) for ch in stripped):
        raise DomainError("seat.bad_chars")
    original = " ".join(stripped.split())
    if not original:
        raise DomainError("seat.unparsed")
    low = _lower(original)
    if low.rstrip(".!") in _STANDING_ONLY or low.replace("-", " ").rstrip(".!") in _STANDING_ONLY:
        return Seat(None, None, None, standing=True)
    if _STANDING_ZONE.fullmatch(low):
        return Seat(_seat_part(original, "section"), None, None, standing=True)

    if "/" in original and not _ANY_LABEL.search(low):
        pieces = [piece.strip() for piece in original.split("/")]
        if len(pieces) in (2, 3) and all(pieces):
            section = _section_of(pieces[0]) if len(pieces) == 3 else None
            row, number = _seat_part(pieces[-2], "row"), _seat_part(pieces[-1], "number")
            if row is not None and number is not None and (len(pieces) == 2 or section is not None):
                return Seat(section, row, number, standing=False)
        raise DomainError("seat.unparsed")

    row_pattern, seat_pattern = (_ROW_AFTER, _SEAT_AFTER) if _ENDS_WITH_LABEL.search(low) else (_ROW_FIRST, _SEAT_FIRST)
    rows = list(row_pattern.finditer(low))
    seats = list(seat_pattern.finditer(low))
    if len(rows) > 1 or len(seats) > 1:
        raise DomainError("seat.unparsed")
    spans = sorted(match.span() for match in rows + seats)
    if len(spans) == 2 and spans[0][1] > spans[1][0]:
        raise DomainError("seat.unparsed")
    leftover = original
    for start, end in reversed(spans):
        leftover = leftover[:start] + " " + leftover[end:]
    leftover = " ".join(leftover.split())
    if _ANY_LABEL.search(leftover.lower()):
        raise DomainError("seat.unparsed")
    row = original[rows[0].start("v") : rows[0].end("v")] if rows else None
    number = original[seats[0].start("v") : seats[0].end("v")] if seats else None
    if row is None and number is None and not _SECTION_WORDS.search(low):
        raise DomainError("seat.unparsed")
    seat = Seat(_section_of(leftover), _seat_part(row, "row"), _seat_part(number, "number"), standing=False)
    if seat.section is None and seat.row is None and seat.number is None:
        raise DomainError("seat.unparsed")
    return seat
