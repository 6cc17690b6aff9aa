"""The sell wizard's texts: the summary (before and after publishing, with where the barcode was read), a Wallet
pass's details offered, and refusals with the price cap as money."""

from __future__ import annotations

from datetime import UTC

from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.settings import Settings
from handlers.shared.cards import Audience, CardFacts, ticket_card
from handlers.shared.display import money
from handlers.shared.formatting import describe_local
from services.crypto import Secrets
from services.draft import Draft
from services.ticket_upload import DocumentKind
from services.wallet_pass import Prefill


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
    barcode = draft.barcode.open(secrets)
    card = ticket_card(CardFacts.of_draft(draft, settings.currency), Audience.DRAFT, language)
    key = "sell-summary-published" if published else "sell-summary"
    return _(key).format(card=card, barcode=_what_was_read(draft, hd.quote(f"{barcode.label} …{barcode.tail}")))


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
