"""The sell wizard's draft: the steps in order, what each has filled in, and the barcode kept sealed; JSON-safe, so
a draft survives a restart in the FSM data. After the last step the seller may add more seats of the same event
(each with its own seat and photo), then choose "sold together" (one price for all) or "sold separately"."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from db.models import EventType, GroupMode
from services.barcode_values import Barcode
from services.crypto import Secrets
from services.seats import Seat
from services.wallet_pass import Prefill


class Step(enum.StrEnum):
    """The wizard's steps, in order; each fills one part of the draft."""

    TYPE = "type"
    NAME = "name"
    CITY = "city"
    VENUE = "venue"
    WHEN = "when"
    SEAT = "seat"
    FACE = "face"
    PRICE = "price"
    PHOTO = "photo"


STEPS = tuple(Step)

MAX_SEATS = 8  # a listing holds 2-8 tickets of one event (services.groups)


class SeatStep(enum.StrEnum):
    """The steps of another seat added to the listing, and of how the seats are sold."""

    SEAT = "more_seat"
    PHOTO = "more_photo"
    MODE = "mode"
    TOTAL = "total"


@dataclass(frozen=True)
class SealedBarcode:
    """A decoded barcode as the draft keeps it: the symbology, and the text sealed with the app's key."""

    format: str
    sealed: str  # a Fernet token (URL-safe base64)

    @classmethod
    def seal(cls, barcode: Barcode, secrets: Secrets) -> SealedBarcode:
        return cls(barcode.format, secrets.seal_text(barcode.text).decode("ascii"))

    def open(self, secrets: Secrets) -> Barcode:
        return Barcode(self.format, secrets.open_text(self.sealed.encode("ascii")))


@dataclass(frozen=True)
class ExtraSeat:
    """Another ticket of the listing's event: its seat, and its own photo and barcode (checked as a single one's)."""

    seat: Seat | None = None
    seat_done: bool = False
    barcode: SealedBarcode | None = None
    photo_key: str | None = None
    photo_phash: str | None = None
    choices: tuple[SealedBarcode, ...] = ()

    @property
    def complete(self) -> bool:
        return self.seat_done and self.barcode is not None and self.photo_key is not None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ExtraSeat:
        seat, barcode = data.get("seat"), data.get("barcode")
        return cls(
            seat=Seat(**seat) if seat else None,
            seat_done=bool(data.get("seat_done")),
            barcode=SealedBarcode(**barcode) if barcode else None,
            photo_key=data.get("photo_key"),
            photo_phash=data.get("photo_phash"),
            choices=tuple(SealedBarcode(**choice) for choice in data.get("choices") or ()),
        )


@dataclass(frozen=True)
class Draft:
    """What the wizard has collected so far; JSON-safe through to_data/from_data (the FSM data survives restarts)."""

    event_type: EventType | None = None
    name: str | None = None
    city_id: int | None = None
    city_name: str | None = None
    city_tz: str | None = None
    venue: str | None = None
    event_at: datetime | None = None
    seat: Seat | None = None
    seat_done: bool = False  # the seat step was answered (a seat, or skipped)
    face_value: int | None = None
    price: int | None = None
    barcode: SealedBarcode | None = None
    photo_key: str | None = None
    photo_phash: str | None = None
    choices: tuple[SealedBarcode, ...] = field(default=())  # several barcodes on the photo: which one?
    extra: tuple[ExtraSeat, ...] = field(default=())  # more seats of this event; the last perhaps being added
    mode: GroupMode | None = None  # with more seats: sold together or separately
    total_price: int | None = None  # sold together: the one price of every seat
    document_kind: str = "photo"  # services.ticket_upload.DocumentKind of what the seller sent
    page: int | None = None  # the PDF's page the chosen barcode came from
    choice_pages: tuple[int | None, ...] = field(default=())  # the page of each of `choices`
    prefill: Prefill | None = None  # what a Wallet pass says of its event, until the seller takes or ignores it

    def has(self, step: Step) -> bool:
        return {
            Step.TYPE: self.event_type is not None,
            Step.NAME: self.name is not None,
            Step.CITY: self.city_id is not None,
            Step.VENUE: self.venue is not None,
            Step.WHEN: self.event_at is not None,
            Step.SEAT: self.seat_done,
            Step.FACE: self.face_value is not None,
            Step.PRICE: self.price is not None,
            Step.PHOTO: self.barcode is not None and self.photo_key is not None,
        }[step]

    def next_step(self) -> Step | None:
        """The first step not answered yet; None when the draft is complete (the summary)."""
        return next((step for step in STEPS if not self.has(step)), None)

    @property
    def seats(self) -> int:
        return 1 + len(self.extra)

    @property
    def adding(self) -> ExtraSeat | None:
        """The seat being added, until its seat and photo are in."""
        return self.extra[-1] if self.extra and not self.extra[-1].complete else None

    def next_seat_step(self) -> SeatStep | None:
        """With more seats: the first of their steps not answered yet; None when there is nothing left to ask."""
        adding = self.adding
        if adding is not None:
            return SeatStep.SEAT if not adding.seat_done else SeatStep.PHOTO
        if self.extra and self.mode is None:
            return SeatStep.MODE
        if self.extra and self.mode == GroupMode.TOGETHER and self.total_price is None:
            return SeatStep.TOTAL
        return None

    def with_adding(self, seat: ExtraSeat) -> Draft:
        """The seat being added, updated (a new one when none is being added)."""
        kept = self.extra[:-1] if self.adding is not None else self.extra
        return replace(self, extra=(*kept, seat), total_price=None)

    def without_adding(self) -> Draft:
        """Back from adding a seat: the seat being added (or, none, the last one added) is dropped."""
        extra = self.extra[:-1]
        return replace(self, extra=extra, mode=self.mode if extra else None, total_price=None)

    def ticket_drafts(self) -> list[Draft]:
        """One single-ticket draft per seat, the first seat first (each is published as a single listing)."""
        single = replace(self, extra=(), mode=None, total_price=None)
        return [single] + [
            replace(single, seat=s.seat, barcode=s.barcode, photo_key=s.photo_key, photo_phash=s.photo_phash)
            for s in self.extra
        ]

    def with_city(self, city_id: int, name: str, tz: str) -> Draft:
        """A new city has a new time zone: the date must be typed again in it."""
        moved = tz != self.city_tz
        return replace(self, city_id=city_id, city_name=name, city_tz=tz, event_at=None if moved else self.event_at)

    def with_face_value(self, face_value: int) -> Draft:
        """A new face value: the price is asked again against the new cap."""
        return replace(self, face_value=face_value, price=None, total_price=None)

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["event_type"] = self.event_type.value if self.event_type else None
        data["event_at"] = self.event_at.isoformat() if self.event_at else None
        data["choices"] = [asdict(choice) for choice in self.choices]
        data["mode"] = self.mode.value if self.mode else None
        data["choice_pages"] = list(self.choice_pages)
        data["prefill"] = _prefill_data(self.prefill)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> Draft:
        data = dict(data or {})
        if not data:
            return cls()
        kind = data.get("event_type")
        seat = data.get("seat")
        barcode = data.get("barcode")
        return cls(
            event_type=EventType(kind) if isinstance(kind, str) and kind in EventType._value2member_map_ else None,
            name=data.get("name"),
            city_id=data.get("city_id"),
            city_name=data.get("city_name"),
            city_tz=data.get("city_tz"),
            venue=data.get("venue"),
            event_at=datetime.fromisoformat(data["event_at"]) if data.get("event_at") else None,
            seat=Seat(**seat) if seat else None,
            seat_done=bool(data.get("seat_done")),
            face_value=data.get("face_value"),
            price=data.get("price"),
            barcode=SealedBarcode(**barcode) if barcode else None,
            photo_key=data.get("photo_key"),
            photo_phash=data.get("photo_phash"),
            choices=tuple(SealedBarcode(**choice) for choice in data.get("choices") or ()),
            extra=tuple(ExtraSeat.from_data(seat) for seat in data.get("extra") or ()),
            mode=GroupMode(data["mode"]) if data.get("mode") in GroupMode._value2member_map_ else None,
            total_price=data.get("total_price"),
            document_kind=data.get("document_kind") or "photo",
            page=data.get("page"),
            choice_pages=tuple(data.get("choice_pages") or ()),
            prefill=_prefill_of(data.get("prefill")),
        )

    def with_prefill(self) -> Draft:
        """The pass's event name, venue and date taken into the draft (each where the pass has it)."""
        if self.prefill is None:
            return self
        return replace(
            self,
            name=self.prefill.event_name or self.name,
            venue=self.prefill.venue or self.venue,
            event_at=self.prefill.starts_at or self.event_at,
            prefill=None,
        )


def _prefill_data(prefill: Prefill | None) -> dict[str, Any] | None:
    if prefill is None:
        return None
    starts_at = prefill.starts_at.isoformat() if prefill.starts_at else None
    return {"event_name": prefill.event_name, "venue": prefill.venue, "starts_at": starts_at}


def _prefill_of(data: dict[str, Any] | None) -> Prefill | None:
    if not data:
        return None
    starts_at = datetime.fromisoformat(data["starts_at"]) if data.get("starts_at") else None
    return Prefill(data.get("event_name"), data.get("venue"), starts_at)
