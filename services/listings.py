"""Listing a ticket: the photo and barcode checks, publishing, withdrawing, the seller's lists (the draft: draft.py).

Rules (every refusal is a DomainError whose code is a text key; the numbers are ListingRules'):
  - the barcode's fingerprint (HMAC of symbology + text) is unique across every ticket ever listed, by anyone. The
    one exception: the seller relisting their own withdrawn ticket (e.g. the date was wrong): the fingerprint
    moves off the old row in the publishing transaction. Sold, blocked, expired (its event has passed), on sale
    or reserved: never again.
  - a photo that is a near-duplicate (pHash distance <= rules.phash_max_distance) of another seller's photo is
    refused, whatever barcode it shows;
  - the event is in the future and at most `rules.horizon` ahead, checked again at Publish (a wizard can be resumed days
    later); the price cap too;
  - an account younger than rules.new_account_days lists at most rules.new_account_daily_listings tickets in any
    24 hours.
The barcode text never rests in clear text outside the process: the draft keeps it sealed (Fernet), the ticket
keeps it sealed, and no exception or log line carries it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from db.models import Ticket, TicketStatus, User
from db.repo import Repo
from db.repositories.feed import Key
from services import events, groups, originality, relay
from services.barcode_values import Barcode
from services.crypto import Secrets
from services.draft import Draft, ExtraSeat, SealedBarcode
from services.errors import DomainError
from services.feed import fold
from services.pricing import check_price
from services.rules import ListingRules
from services.seats import Seat
from services.storage import PhotoStorage
from services.ticket_upload import ScanLimits, scan_upload_async

RELISTABLE = (TicketStatus.WITHDRAWN,)  # an expired ticket's event has passed: its barcode is spent
PAGE_SIZE = 5
ACTOR = "seller"


# --- the event's date, the price, the daily limit ----------------------------------------------------------------
def check_event_time(rules: ListingRules, event_at: datetime, now: datetime) -> None:
    if event_at <= now:
        raise DomainError("date.past")
    if event_at - now > rules.horizon:
        raise DomainError("date.too_far", max_days=rules.horizon.days)


async def check_daily_limit(repo: Repo, rules: ListingRules, seller: User, now: datetime) -> None:
    """A new account lists at most N tickets in any 24 hours."""
    if now - seller.created_at >= timedelta(days=rules.new_account_days):
        return
    if await repo.listings.listed_since(seller.id, now - timedelta(days=1)) >= rules.new_account_daily_listings:
        raise DomainError("sell-daily-limit", limit=rules.new_account_daily_listings, days=rules.new_account_days)


# --- the barcode and the photo -----------------------------------------------------------------------------------
def fingerprint_of(secrets: Secrets, barcode: Barcode) -> str:
    return originality.fingerprint_of(secrets.fingerprint_key, barcode.format, barcode.text)


def _relistable(ticket: Ticket, seller: User) -> bool:
    return ticket.seller_id == seller.id and ticket.status in RELISTABLE


def _refusal_for_listed(ticket: Ticket, seller: User) -> DomainError:
    """Why a barcode already on `ticket` can't be listed by `seller`."""
    if ticket.seller_id != seller.id:  # the genuine owner may claim it (services.claims)
        return DomainError("sell-barcode-taken", ticket_id=ticket.id)
    if ticket.status in (TicketStatus.ACTIVE, TicketStatus.RESERVED):
        return DomainError("sell-barcode-yours")
    return DomainError("sell-barcode-closed")


async def check_barcode(repo: Repo, secrets: Secrets, seller: User, barcode: Barcode) -> None:
    print_ = fingerprint_of(secrets, barcode)
    listed = await repo.listings.by_fingerprint(print_)
    if listed is not None and not _relistable(listed, seller):
        raise _refusal_for_listed(listed, seller)


async def check_photo_original(repo: Repo, rules: ListingRules, seller: User, phash: str) -> None:
    if await originality.find_near_duplicate(repo, phash, seller.id, rules.phash_max_distance) is not None:
        raise DomainError("sell-photo-duplicate")


async def take_photo(
    repo: Repo,
    rules: ListingRules,
    secrets: Secrets,
    photo_storage: PhotoStorage,
    seller: User,
    draft: Draft,
    data: bytes,
) -> Draft:
    """Decode and check what the seller sent (a photo, a PDF e-ticket or a Wallet pass); on success the document
    is stored (encrypted: the normalised photo, or the PDF or pass as sent) and the draft holds its key, its kind,
    the sealed barcode and its page, or several in `choices` to pick from (choose_barcode), and a pass's prefill.
    The previous document of the draft, if any, is deleted."""
    try:
        scanned = await scan_upload_async(data, limits=ScanLimits(rules.max_photo_bytes))
    except DomainError as error:
        raise DomainError(error.code, **{"max_mb": rules.max_photo_mb, **error.params}) from None
    if scanned.phash is not None:
        await check_photo_original(repo, rules, seller, scanned.phash)
    if len(scanned.found) == 1:
        await check_barcode(repo, secrets, seller, scanned.found[0].barcode)
    key = await photo_storage.put(scanned.document)
    await forget_photo(photo_storage, draft)
    sealed = tuple(SealedBarcode.seal(found.barcode, secrets) for found in scanned.found)
    pages = tuple(found.page for found in scanned.found)
    draft = replace(draft, photo_key=key, photo_phash=scanned.phash or "", document_kind=scanned.kind.value,
                    prefill=scanned.prefill)  # fmt: skip
    if len(sealed) == 1:
        return replace(draft, barcode=sealed[0], page=pages[0], choices=(), choice_pages=())
    return replace(draft, barcode=None, page=None, choices=sealed, choice_pages=pages)


async def choose_barcode(repo: Repo, secrets: Secrets, seller: User, draft: Draft, index: int) -> Draft:
    """The seller picked barcode `index` of the document's several."""
    if not 0 <= index < len(draft.choices):
        raise DomainError("sell-stale")
    chosen = draft.choices[index]
    await check_barcode(repo, secrets, seller, chosen.open(secrets))
    page = draft.choice_pages[index] if index < len(draft.choice_pages) else None
    return replace(draft, barcode=chosen, page=page, choices=(), choice_pages=())


async def forget_photo(photo_storage: PhotoStorage, draft: Draft) -> None:
    """Delete the draft's stored photos, its more seats' too (the wizard was cancelled or the photo replaced)."""
    for key in (draft.photo_key, *(seat.photo_key for seat in draft.extra)):
        if key:
            await photo_storage.delete(key)


# --- more seats of the same event --------------------------------------------------------------------------------
def _check_new_in_listing(secrets: Secrets, draft: Draft, barcode: SealedBarcode) -> None:
    """A seat's barcode is none of the listing's other seats'."""
    listed = [draft.barcode, *(seat.barcode for seat in draft.extra if seat.complete)]
    new = fingerprint_of(secrets, barcode.open(secrets))
    if any(other and fingerprint_of(secrets, other.open(secrets)) == new for other in listed):
        raise DomainError("sell-seat-same-barcode")


async def take_seat_photo(
    repo: Repo,
    rules: ListingRules,
    secrets: Secrets,
    photo_storage: PhotoStorage,
    seller: User,
    draft: Draft,
    data: bytes,
) -> Draft:
    """The photo of the seat being added: every check of take_photo, and its barcode on no other seat of the
    listing; several barcodes go to `choices` (choose_seat_barcode)."""
    adding = draft.adding
    assert adding is not None
    taken = await take_photo(repo, rules, secrets, photo_storage, seller, Draft(photo_key=adding.photo_key), data)
    seat = replace(adding, photo_key=taken.photo_key, photo_phash=taken.photo_phash, barcode=None)
    seat = replace(seat, choices=taken.choices)
    if taken.barcode is not None:
        try:
            _check_new_in_listing(secrets, draft, taken.barcode)
        except DomainError:
            await forget_photo(photo_storage, taken)
            raise
        seat = replace(seat, barcode=taken.barcode)
    return draft.with_adding(seat)


async def choose_seat_barcode(repo: Repo, secrets: Secrets, seller: User, draft: Draft, index: int) -> Draft:
    """The seller picked barcode `index` of the added seat's photo."""
    adding = draft.adding
    if adding is None:
        raise DomainError("sell-stale")
    chosen = await choose_barcode(repo, secrets, seller, Draft(choices=adding.choices), index)
    assert chosen.barcode is not None
    _check_new_in_listing(secrets, draft, chosen.barcode)
    return draft.with_adding(replace(adding, barcode=chosen.barcode, choices=()))


def seat_choice_labels(secrets: Secrets, seat: ExtraSeat) -> tuple[str, ...]:
    return choice_labels(secrets, Draft(choices=seat.choices))


def choice_labels(secrets: Secrets, draft: Draft) -> tuple[str, ...]:
    """ "QR Code …1234" for each of the photo's barcodes: the symbology and the last four characters only."""
    barcodes = [choice.open(secrets) for choice in draft.choices]
    return tuple(f"{barcode.label} …{barcode.tail}" for barcode in barcodes)


# --- publishing --------------------------------------------------------------------------------------------------
async def publish_listing(
    repo: Repo, rules: ListingRules, secrets: Secrets, seller: User, draft: Draft, now: datetime
) -> list[Ticket]:
    """The draft's ticket; with more seats, every seat's ticket (each through all of publish's checks, as a single
    listing) and their group (together: one price for all), in one savepoint: all of them or none."""
    if not draft.extra:
        return [await publish(repo, rules, secrets, seller, draft, now)]
    if draft.next_step() is not None or draft.next_seat_step() is not None or draft.mode is None:
        raise DomainError("sell-incomplete")
    async with repo.session.begin_nested():
        tickets = [await publish(repo, rules, secrets, seller, single, now) for single in draft.ticket_drafts()]
        await groups.create_group(
            repo, now, seller, [ticket.id for ticket in tickets], draft.mode,
            total_price=draft.total_price, max_markup_percent=rules.max_markup_percent,
        )  # fmt: skip
    return tickets


async def publish(
    repo: Repo, rules: ListingRules, secrets: Secrets, seller: User, draft: Draft, now: datetime
) -> Ticket:
    """Every check again, then the ticket, its history row and (when relisting) the old row's fingerprint released,
    in the caller's transaction. Two sellers publishing one barcode at once: one listing, the other refused."""
    if draft.next_step() is not None:
        raise DomainError("sell-incomplete")
    assert draft.event_at and draft.face_value and draft.price and draft.barcode and draft.photo_key
    check_event_time(rules, draft.event_at, now)
    check_price(draft.face_value, draft.price, rules.max_markup_percent)
    await check_daily_limit(repo, rules, seller, now)
    barcode = draft.barcode.open(secrets)
    print_ = fingerprint_of(secrets, barcode)
    listed = await repo.listings.by_fingerprint(print_)
    relisted = listed is not None and _relistable(listed, seller)
    if listed is not None and not (
        relisted and await repo.listings.release_fingerprint(listed.id, seller.id, RELISTABLE)
    ):
        raise _refusal_for_listed(listed, seller)
    if draft.photo_phash:  # a PDF or a pass has none: one template prints many tickets
        await check_photo_original(repo, rules, seller, draft.photo_phash)
    seat = draft.seat or Seat(None, None, None)
    ticket = Ticket(
        seller_id=seller.id,
        event_name=draft.name,
        event_name_folded=fold(draft.name or ""),
        event_type=draft.event_type,
        city_id=draft.city_id,
        city_name=draft.city_name,
        city_tz=draft.city_tz,
        venue=draft.venue,
        event_at=draft.event_at,
        seat_section=seat.section,
        seat_row=seat.row,
        seat_number=seat.number,
        standing=seat.standing,
        face_value=draft.face_value,
        price=draft.price,
        currency=rules.currency,
        barcode_ciphertext=draft.barcode.sealed.encode("ascii"),
        barcode_format=barcode.format,
        barcode_fingerprint=print_,
        photo_key=draft.photo_key,
        photo_phash=draft.photo_phash,
        document_kind=draft.document_kind,
        document_page=draft.page,
        status=TicketStatus.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    ticket.event_key = events.key_of(ticket)
    try:
        await repo.listings.add(ticket)
    except IntegrityError:  # the same barcode published a moment ago by a concurrent update
        listed = await repo.listings.by_fingerprint(print_)
        raise (_refusal_for_listed(listed, seller) if listed else DomainError("sell-barcode-taken")) from None
    if ticket.photo_phash:
        await repo.originality.add_photo_hash(ticket.id, ticket.photo_phash)
    await repo.history.record([ticket.id], TicketStatus.ACTIVE, actor=ACTOR, at=now)
    return ticket


# --- the seller's tickets ----------------------------------------------------------------------------------------
class Tab(enum.StrEnum):
    ON_SALE = "sale"
    RESERVED = "reserved"
    SOLD = "sold"
    EXPIRED = "expired"  # the brief's getOutdatedTicketList, for one seller
    WITHDRAWN = "withdrawn"


TAB_STATUSES: dict[Tab, tuple[TicketStatus, ...]] = {
    Tab.ON_SALE: (TicketStatus.ACTIVE, TicketStatus.FROZEN),  # frozen: on sale again unless a claim is upheld
    Tab.RESERVED: (TicketStatus.RESERVED,),
    Tab.SOLD: (TicketStatus.SOLD,),
    Tab.EXPIRED: (TicketStatus.EXPIRED,),
    Tab.WITHDRAWN: (TicketStatus.WITHDRAWN, TicketStatus.BLOCKED),  # off sale, by the seller or by an admin
}


@dataclass(frozen=True)
class SellerPage:
    tickets: list[Ticket]
    next_key: Key | None  # where the next page starts; None on the last page


async def seller_page(repo: Repo, seller: User, tab: Tab, after: Key | None, limit: int = PAGE_SIZE) -> SellerPage:
    rows = await repo.listings.of_seller(seller.id, TAB_STATUSES[tab], after, limit + 1)
    tickets = rows[:limit]
    more = len(rows) > limit
    return SellerPage(tickets, Key(tickets[-1].created_at, tickets[-1].id) if more else None)


async def own_ticket(repo: Repo, seller: User, ticket_id: int) -> Ticket:
    ticket = await repo.listings.own(ticket_id, seller.id)
    if ticket is None:
        raise DomainError("my-not-yours")
    return ticket


def _not_withdrawable(ticket: Ticket) -> DomainError:
    return DomainError("my-withdraw-reserved" if ticket.status == TicketStatus.RESERVED else "my-not-on-sale")


async def withdrawable(repo: Repo, seller: User, ticket_id: int) -> Ticket:
    """The seller's own ticket, if it may be withdrawn now (for the confirmation)."""
    ticket = await own_ticket(repo, seller, ticket_id)
    if ticket.status != TicketStatus.ACTIVE:
        raise _not_withdrawable(ticket)
    return ticket


async def withdraw(repo: Repo, seller: User, ticket_id: int, now: datetime) -> Ticket:
    """Take one's own ticket off sale (one of a together-group: the whole group); only while it is on sale (a buyer
    paying for it keeps it reserved). One conditional update: a double click or a buyer's hold at the same moment
    leaves one outcome."""
    await own_ticket(repo, seller, ticket_id)
    unit = await groups.unit_of(repo, ticket_id)
    assert unit is not None
    if unit.group_id is None:
        withdrawn = await repo.listings.withdraw(ticket_id, seller.id, now)
    else:
        withdrawn = await groups.move_unit(repo, unit, [TicketStatus.ACTIVE], TicketStatus.WITHDRAWN, now)
    if not withdrawn:
        raise _not_withdrawable(await own_ticket(repo, seller, ticket_id))
    await repo.history.record(unit.ids, TicketStatus.WITHDRAWN, actor=ACTOR, at=now)
    await relay.close_for_tickets(repo, unit.ids, relay.CloseReason.WITHDRAWN, now)
    return await own_ticket(repo, seller, ticket_id)


async def reveal_barcode(repo: Repo, secrets: Secrets, seller: User, ticket_id: int) -> tuple[Ticket, Barcode]:
    """The seller's own barcode, while the ticket is still theirs (not once sold, not when blocked)."""
    ticket = await own_ticket(repo, seller, ticket_id)
    if ticket.status in (TicketStatus.SOLD, TicketStatus.BLOCKED):
        raise DomainError("my-barcode-closed")
    return ticket, Barcode(ticket.barcode_format, secrets.open_text(ticket.barcode_ciphertext))
