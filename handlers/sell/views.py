"""The sell wizard's texts: the summary (before and after publishing, with where the barcode was read), a Wallet
pass's details offered, and refusals with the price cap as money."""

from __future__ import annotations

from datetime import UTC

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram.utils.text_decorations import html_decoration as hd

from bot.settings import Settings
from db.models import GroupMode
from handlers.shared.cards import Audience, CardFacts, seat_label, ticket_card
from handlers.shared.display import money
from handlers.shared.formatting import describe_local
from services.crypto import Secrets
from services.draft import Draft, SealedBarcode, Step
from services.ticket_upload import DocumentKind
from services.wallet_pass import Prefill

# Literal keys, never built at run time: the i18n test finds each one in the catalogues.
ASK_KEYS = {
    Step.TYPE: "sell-ask-type",
    Step.NAME: "sell-ask-name",
    Step.CITY: "sell-ask-city",
    Step.VENUE: "sell-ask-venue",
    Step.WHEN: "sell-ask-when",
    Step.SEAT: "sell-ask-seat",
    Step.FACE: "sell-ask-face",
    Step.PRICE: "sell-ask-price",
    Step.PHOTO: "sell-ask-photo",
}
STEP_KEYS = {
    Step.TYPE: "sell-step-type",
    Step.NAME: "sell-step-name",
    Step.CITY: "sell-step-city",
    Step.VENUE: "sell-step-venue",
    Step.WHEN: "sell-step-when",
    Step.SEAT: "sell-step-seat",
    Step.FACE: "sell-step-face",
    Step.PRICE: "sell-step-price",
    Step.PHOTO: "sell-step-photo",
}


def refusal(code: str, params: dict[str, object], settings: Settings, language: str) -> str:
    """The text of a refusal; the price cap in it as money."""
    params = dict(params)
    cap = params.get("max_price")
    if isinstance(cap, int):
        params["max_price"] = money(cap, settings.currency, language)
    return _(code).format(**params)


def summary(draft: Draft, secrets: Secrets, settings: Settings, language: str, *, published: bool = False) -> str:
    """The listing as it will read, with the barcode's kind and tail for its seller; asking to publish, or saying
    that it is published."""
    assert draft.barcode is not None
    card = ticket_card(CardFacts.of_draft(draft, settings.currency), Audience.DRAFT, language)
    if draft.extra:
        card += "\n" + _seats(draft, secrets, language)
    key = "sell-summary-published" if published else "sell-summary"
    return _(key).format(card=card, barcode=_what_was_read(draft, _tail(draft.barcode, secrets)))


def _tail(sealed: SealedBarcode, secrets: Secrets) -> str:
    barcode = sealed.open(secrets)
    return hd.quote(f"{barcode.label} …{barcode.tail}")


def _seats(draft: Draft, secrets: Secrets, language: str) -> str:
    """How the seats are sold, and each seat with its barcode's kind and tail."""
    key = f"sell-summary-{draft.mode or GroupMode.SEPARATELY}"
    mode = ngettext(key, key, draft.seats)
    lines = [mode.format(count=draft.seats)]
    seats = [(draft.seat, draft.barcode), *((seat.seat, seat.barcode) for seat in draft.extra)]
    for number, (seat, barcode) in enumerate(seats, start=1):
        place = hd.quote(seat_label(seat, language)) or _("card-seat-none")
        tail = _tail(barcode, secrets) if barcode else "—"
        lines.append(_("sell-summary-seat").format(number=number, seat=place, barcode=tail))
    return "\n".join(lines)


def _what_was_read(draft: Draft, code: str) -> str:
    """The code and where it was read: "QR Code …7890 from page 2 of the PDF", "... from the Wallet pass"."""
    if draft.document_kind == DocumentKind.PDF and draft.page is not None:
        return _("sell-read-from-pdf").format(code=code, page=draft.page)
    if draft.document_kind == DocumentKind.PASS:
        return _("sell-read-from-pass").format(code=code)
    return code


def prefill_offer(prefill: Prefill, tz: str | None, language: str) -> str:
    """What the pass says of its event, offered to replace the wizard's answers."""
    lines = [_("sell-prefill-offer")]
    if prefill.event_name:
        lines.append(_("sell-prefill-name").format(name=hd.quote(prefill.event_name)))
    if prefill.venue:
        lines.append(_("sell-prefill-venue").format(venue=hd.quote(prefill.venue)))
    if prefill.starts_at:
        when = describe_local(prefill.starts_at.astimezone(UTC), tz or "UTC", language)
        lines.append(_("sell-prefill-when").format(when=when))
    return "\n".join(lines)
