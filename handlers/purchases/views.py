"""My purchases as text: one line a ticket, with what was paid and where the deal stands."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from db.models import DisputeStatus, OrderStatus, PayoutStatus
from db.repositories.orders import Purchase
from handlers.shared.cards import ticket_line
from handlers.shared.display import amount_text
from handlers.shared.long_text import fit_blocks


def status(purchase: Purchase) -> str:
    if purchase.order.status == OrderStatus.REFUNDED:
        return _("purchases-status-refunded")
    if purchase.dispute is not None and purchase.dispute.status == DisputeStatus.OPEN:
        return _("purchases-status-disputed")
    if purchase.payout is not None and purchase.payout.status == PayoutStatus.HELD:
        return _("purchases-status-protected")
    return _("purchases-status-done")


def purchases_text(purchases: list[Purchase], language: str) -> tuple[str, int]:
    """The list, cut to one message; and how many purchases it shows."""
    blocks = [
        _("purchases-line").format(
            number=number,
            event=hd.quote(ticket_line(purchase.ticket, language)),
            paid=amount_text(purchase.order.amount, purchase.order.currency, language),
            status=status(purchase),
        )
        for number, purchase in enumerate(purchases, start=1)
    ]
    return fit_blocks(_("purchases-title"), blocks)
