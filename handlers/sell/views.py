"""The sell wizard's texts: the summary (before and after publishing) and refusals with the price cap as money."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from bot.settings import Settings
from handlers.shared.cards import Audience, CardFacts, ticket_card
from handlers.shared.display import money
from services.crypto import Secrets
from services.draft import Draft, Step

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
    barcode = draft.barcode.open(secrets)
    card = ticket_card(CardFacts.of_draft(draft, settings.currency), Audience.DRAFT, language)
    key = "sell-summary-published" if published else "sell-summary"
    return _(key).format(card=card, barcode=hd.quote(f"{barcode.label} …{barcode.tail}"))
