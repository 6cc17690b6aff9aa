"""What a buyer gets beside the re-rendered barcode: the seller's photo, the PDF's page the barcode came from, or the
Wallet pass itself, read back from the (encrypted) photo storage."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from db.models import Ticket
from services.barcode_values import MAX_DECODED_BYTES
from services.storage import PhotoStorage
from services.ticket_upload import DocumentKind


@dataclass(frozen=True)
class Attachment:
    data: bytes
    filename: str
    is_picture: bool  # sent as a photo; otherwise as the file itself (a .pkpass opens in Wallet)


async def buyer_attachment(photo_storage: PhotoStorage, ticket: Ticket) -> Attachment:
    """The ticket's document as the buyer receives it. Raises PhotoNotFound when the storage has lost it."""
    stored = await photo_storage.get(ticket.photo_key)
    if ticket.document_kind == DocumentKind.PDF:
        from services import tickets_pdf  # pdfium and the image libraries: on first use

        page = await asyncio.to_thread(
            tickets_pdf.page_jpeg, stored, ticket.document_page or 1, max_decoded_bytes=MAX_DECODED_BYTES
        )
        return Attachment(page, f"ticket-page-{ticket.document_page or 1}.jpg", is_picture=True)
    if ticket.document_kind == DocumentKind.PASS:
        return Attachment(stored, "ticket.pkpass", is_picture=False)
    return Attachment(stored, "ticket.jpg", is_picture=True)
