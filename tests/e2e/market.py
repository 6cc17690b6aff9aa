"""Tickets on sale for the end-to-end tests, listed through the repositories (not the sell wizard) with real
sealed barcodes and real photos from the corpus, in the running bot's own storage."""

from __future__ import annotations

from collections.abc import Sequence

from db.models import Ticket
from db.repo import Repo
from sandbox.users import SimulatedUser
from tests.e2e.conftest import Harness
from tests.factories import BarcodeSample, barcode_samples, make_listed_ticket

SAMPLES = barcode_samples("qr")


async def list_tickets(
    harness: Harness, seller: SimulatedUser, samples: Sequence[BarcodeSample] = SAMPLES[:1], **fields: object
) -> list[Ticket]:
    """One ticket per sample, sold by `seller` (registered through the bot first)."""
    app = harness.app
    assert app is not None
    async with app.sessionmaker() as session, session.begin():
        repo = Repo(session)
        user = await repo.users.by_telegram_id(seller.id)
        assert user is not None, f"{seller} is not registered"
        now = harness.clock.now()
        return [
            await make_listed_ticket(repo, user, now, app.secrets, app.photo_storage, sample, **fields)
            for sample in samples
        ]
