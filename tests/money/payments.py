"""Sales for the outbox and reconciliation tests: a listed ticket with a real barcode and photo, and a hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from db.models import Ticket, User
from db.repo import Repo
from services import orders
from services.barcodes import render_barcode_png
from services.crypto import Secrets
from services.storage import PhotoStorage
from tests.factories import make_payment_rules, make_ticket, make_user

ADMIN_IDS = [900_001]
STARS = make_payment_rules()
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Deal:
    seller: User
    buyer: User
    ticket: Ticket
    hold: orders.Hold

    def payment(self, charge_id: str) -> orders.Payment:
        return orders.Payment(
            self.hold.order.public_id, self.hold.charge.currency, self.hold.charge.total, charge_id,
            payer_telegram_id=self.buyer.telegram_id,
        )  # fmt: skip


async def make_deal(repo: Repo, secrets: Secrets, photo_storage: PhotoStorage, barcode: str) -> Deal:
    """A ticket listed with a QR code of `barcode` (its photo: the code drawn by our renderer, a real image that
    decodes) and held by a buyer, committed."""
    seller = await make_user(repo, NOW, first_name="Sergei")
    buyer = await make_user(repo, NOW, first_name="Bella")
    ticket = await make_ticket(repo, seller, NOW)
    ticket.barcode_ciphertext = secrets.seal_text(barcode)
    ticket.photo_key = await photo_storage.put(render_barcode_png("QRCode", barcode or "unreadable"))
    hold = await orders.hold(repo, STARS, NOW, buyer, ticket.id)
    await repo.commit()
    return Deal(seller, buyer, ticket, hold)
