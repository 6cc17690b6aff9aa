"""Photo hashes stored in bands, for the near-duplicate search (multi-index hashing).

A 64-bit pHash is cut into BANDS bands of 8 bits (its bytes). If two hashes differ in at most d bits, at most d
bands hold a difference, so at least BANDS - d bands are equal: the candidates are the tickets sharing that many
(band, value) pairs, found through an index; services/originality.py then checks the exact distance on those few.
This holds for d < BANDS (up to 7).
"""

from __future__ import annotations

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import PhotoHashBand, Ticket

BANDS = 8  # of 8 bits: the hash's bytes
MAX_DISTANCE = BANDS - 1


def phash_bands(phash: str) -> list[int]:
    """The BANDS values of a 16-hex-character hash: its bytes, most significant first."""
    return list(bytes.fromhex(phash))


class OriginalityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_photo_hash(self, ticket_id: int, phash: str) -> None:
        """Index the photo hash of a new ticket (in the caller's transaction)."""
        rows = [{"ticket_id": ticket_id, "band": band, "value": value} for band, value in enumerate(phash_bands(phash))]
        await self.session.execute(insert(PhotoHashBand), rows)

    async def candidates(self, phash: str, max_distance: int, exclude_seller_id: int) -> list[tuple[int, str]]:
        """(ticket id, photo hash) of other sellers' tickets (any status) that share enough bands with `phash` to
        be within `max_distance` bits of it: a superset of the near ones. max_distance must be at most
        MAX_DISTANCE."""
        if not 0 <= max_distance <= MAX_DISTANCE:
            raise ValueError(f"max_distance must be within 0..{MAX_DISTANCE} for {BANDS} bands")
        shared = (
            select(PhotoHashBand.ticket_id)
            .where(
                or_(
                    *(
                        and_(PhotoHashBand.band == band, PhotoHashBand.value == value)
                        for band, value in enumerate(phash_bands(phash))
                    )
                )
            )
            .group_by(PhotoHashBand.ticket_id)
            .having(func.count() >= BANDS - max_distance)
        )
        query = select(Ticket.id, Ticket.photo_phash).where(
            Ticket.id.in_(shared), Ticket.seller_id != exclude_seller_id
        )
        return [(ticket_id, other) for ticket_id, other in (await self.session.execute(query)).all()]
