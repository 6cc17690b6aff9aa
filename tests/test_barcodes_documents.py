"""The sell step's upload: photos, PDF e-tickets and Wallet passes told apart by content, every barcode with where
it came from, a pass's prefill, and every refusal."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pypdfium2 as pdfium
import pytest
from PIL import Image

from services import tickets_pdf
from services.barcode_values import MAX_DECODED_BYTES, MAX_TEXT, Barcode
from services.barcodes import quick_read
from services.errors import DomainError
from services.ticket_upload import DocumentKind, Found, ScanLimits, kind_of, scan_upload, scan_upload_async
from services.wallet_pass import MAX_INFLATED, Prefill
from tests import barcode_documents as docs
from tests.factories import require_corpus

LIMITS = ScanLimits(max_bytes=10 * 1024 * 1024, max_pdf_pages=10)
PDF417 = {"format": "PKBarcodeFormatPDF417", "message": "TICKET-PASS-000123", "messageEncoding": "iso-8859-1"}


def _refused(data: bytes, limits: ScanLimits = LIMITS) -> DomainError:
    with pytest.raises(DomainError) as caught:
        scan_upload(data, limits=limits)
    return caught.value


# --- PDF e-tickets ---------------------------------------------------------------------------------------------------


def test_two_page_pdf_with_the_qr_code_on_page_2() -> None:
    pdf = docs.vector_pdf([None, ("QRCode", "TICKET-PAGE-2")])
    result = scan_upload(pdf, limits=LIMITS)
    assert (result.kind, result.found) == (DocumentKind.PDF, (Found(Barcode("QRCode", "TICKET-PAGE-2"), page=2),))
    assert result.document == pdf and result.phash is None and result.prefill is None


def test_pdf_of_page_images_is_read_from_the_picture() -> None:
    cover = Image.new("L", (1240, 1754), 255)
    ticket = docs.on_scene(docs.code_image("QRCode", "TICKET-SCANNED-2"), (1240, 1754), 0.05)
    result = scan_upload(docs.pdf_of_images([cover, ticket]), limits=LIMITS)
    assert result.found == (Found(Barcode("QRCode", "TICKET-SCANNED-2"), page=2),)


def test_a_code_too_small_once_rendered_is_read_from_the_embedded_image() -> None:
    pdf = docs.pdf_with_tiny_picture(docs.code_image("QRCode", "TICKET-TINY-1"), side_points=20)
    document = pdfium.PdfDocument(pdf)
    assert quick_read(tickets_pdf._rendered(document[0], MAX_DECODED_BYTES)) == ()  # the page alone reads nothing
    document.close()
    assert scan_upload(pdf, limits=LIMITS).found == (Found(Barcode("QRCode", "TICKET-TINY-1"), page=1),)


def test_the_page_a_code_came_from_as_a_jpeg_for_the_buyer() -> None:
    pdf = docs.vector_pdf([None, ("QRCode", "TICKET-PAGE-2")])
    page = Image.open(io.BytesIO(tickets_pdf.page_jpeg(pdf, 2, max_decoded_bytes=MAX_DECODED_BYTES)))
    assert page.format == "JPEG" and page.height > page.width > 500
    assert scan_upload(docs.jpeg(page), limits=LIMITS).found == (Found(Barcode("QRCode", "TICKET-PAGE-2")),)


@pytest.mark.serial  # a time limit
def test_every_code_on_every_page_and_three_pages_under_400_ms() -> None:
    pdf = docs.vector_pdf([("QRCode", "A-0001"), ("PDF417", "B-0002"), ("Aztec", "C-0003")])
    scan_upload(pdf, limits=LIMITS)  # warm: pdfium's first load
    started = time.perf_counter()
    result = scan_upload(pdf, limits=LIMITS)
    elapsed = time.perf_counter() - started
    assert [(f.barcode.text, f.page) for f in result.found] == [("A-0001", 1), ("B-0002", 2), ("C-0003", 3)]
    assert elapsed < 0.4


def test_pdf_refusals() -> None:
    assert _refused(docs.encrypted_pdf()).code == "pdf-encrypted"
    assert _refused(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog").code == "pdf-broken"
    assert _refused(docs.empty_pdf()).code == "pdf-broken"
    assert _refused(docs.vector_pdf([None])).code == "pdf-no-barcode"
    too_long = _refused(docs.vector_pdf([None] * 50))
    assert (too_long.code, too_long.params) == ("pdf-too-many-pages", {"max_pages": 10})
    assert scan_upload(docs.vector_pdf([("QRCode", "T-50")] * 50), limits=ScanLimits(LIMITS.max_bytes, 50)).found


def test_an_empty_pdf_after_an_encrypted_one_is_not_called_encrypted() -> None:
    """pdfium's last error is per thread and stale: the encrypted file's error must not name the next one."""
    _refused(docs.encrypted_pdf())
    assert _refused(docs.empty_pdf()).code == "pdf-broken"


# --- Wallet passes ---------------------------------------------------------------------------------------------------


def test_pass_with_a_pdf417_code_and_its_prefill() -> None:
    data = docs.wallet_pass(docs.event_pass([PDF417]))
    result = scan_upload(data, limits=LIMITS)
    assert (result.kind, result.document, result.phash) == (DocumentKind.PASS, data, None)
    assert result.found == (Found(Barcode("PDF417", "TICKET-PASS-000123")),)
    starts = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    assert result.prefill == Prefill("Nutcracker", "Bolshoi Theatre", starts)


@pytest.mark.parametrize(
    ("format", "zxing"),
    [("PKBarcodeFormatQR", "QRCode"), ("PKBarcodeFormatAztec", "Aztec"), ("PKBarcodeFormatCode128", "Code128")],
)
def test_pass_formats_and_the_legacy_barcode_key(format: str, zxing: str) -> None:
    content = docs.event_pass([])
    del content["barcodes"]
    content["barcode"] = {"format": format, "message": "Ticket 7 ÄÖ", "messageEncoding": "utf-8"}
    assert scan_upload(docs.wallet_pass(content), limits=LIMITS).found == (Found(Barcode(zxing, "Ticket 7 ÄÖ")),)


def test_pass_semantic_tags_win_over_fields() -> None:
    semantics = {"eventName": "Swan Lake", "venueName": "Mariinsky", "eventStartDate": "2027-01-05T19:30:00+03:00"}
    result = scan_upload(docs.wallet_pass(docs.event_pass([PDF417], semantics=semantics)), limits=LIMITS)
    moscow = timezone(timedelta(hours=3))
    assert result.prefill == Prefill("Swan Lake", "Mariinsky", datetime(2027, 1, 5, 19, 30, tzinfo=moscow))


def test_pass_without_event_details_prefills_nothing_but_its_description() -> None:
    content = {"formatVersion": 1, "description": "Entry", "barcodes": [PDF417], "generic": {}}
    assert scan_upload(docs.wallet_pass(content), limits=LIMITS).prefill == Prefill("Entry", None, None)


@pytest.mark.serial  # a time limit
def test_zip_bombs_are_refused_before_inflating() -> None:
    bomb = docs.wallet_pass(docs.event_pass([PDF417]), extra={"strip.png": bytes(MAX_INFLATED + 1)})
    started = time.perf_counter()
    assert _refused(bomb).code == "pass-too-large"
    assert time.perf_counter() - started < 0.5
    dense = docs.wallet_pass(docs.event_pass([PDF417]), extra={"logo.png": bytes(2 * 1024 * 1024)})
    assert _refused(dense).code == "pass-too-large"  # 2 MB of zeros: a ratio no image or JSON has
    crowded = docs.wallet_pass(docs.event_pass([PDF417]), extra={f"{n}.png": b"x" for n in range(100)})
    assert _refused(crowded).code == "pass-too-large"


def test_pass_refusals() -> None:
    assert _refused(docs.wallet_pass(None)).code == "pass-no-json"
    broken_json = io.BytesIO()
    with zipfile.ZipFile(broken_json, "w") as archive:
        archive.writestr("pass.json", b'{"barcodes": [')
    assert _refused(broken_json.getvalue()).code == "pass-bad-json"
    assert _refused(docs.wallet_pass([1, 2])).code == "pass-bad-json"  # type: ignore[arg-type]
    assert _refused(docs.wallet_pass(docs.event_pass([]))).code == "pass-no-barcode"
    unknown = {"format": "PKBarcodeFormatDataMatrix", "message": "X-1"}
    assert _refused(docs.wallet_pass(docs.event_pass([unknown]))).code == "pass-no-barcode"
    assert _refused(b"PK\x03\x04" + bytes(200)).code == "pass-broken"


def test_the_signature_is_never_reported() -> None:
    result = scan_upload(docs.wallet_pass(docs.event_pass([PDF417])), limits=LIMITS)
    assert not any("sign" in name for name in vars(result)) and not any("sign" in name for name in vars(result.prefill))


# --- kinds, limits, unusable texts -----------------------------------------------------------------------------------


def test_kind_is_told_by_content_not_by_name() -> None:
    assert kind_of(docs.png(docs.code_image("QRCode", "X"))) is DocumentKind.PHOTO
    assert kind_of(docs.jpeg(docs.code_image("QRCode", "X"))) is DocumentKind.PHOTO
    assert kind_of(b"\n\n%PDF-1.4 ...") is DocumentKind.PDF
    assert kind_of(docs.wallet_pass(None)) is DocumentKind.PASS
    webp = io.BytesIO()
    docs.code_image("QRCode", "X").save(webp, "WEBP")
    assert kind_of(webp.getvalue()) is DocumentKind.PHOTO
    assert _refused(b"ticket.pdf: hello").code == "photo-not-image"


def test_photo_upload() -> None:
    result = scan_upload(docs.png(docs.code_image("Aztec", "TICKET-PHOTO-1")), limits=LIMITS)
    assert (result.kind, result.found) == (DocumentKind.PHOTO, (Found(Barcode("Aztec", "TICKET-PHOTO-1")),))
    assert Image.open(io.BytesIO(result.document)).format == "JPEG" and len(result.phash or "") == 16
    assert _refused(docs.png(Image.new("L", (640, 480), 200))).code == "no-barcode"


def test_any_upload_over_the_size_limit_is_refused_first() -> None:
    error = _refused(docs.vector_pdf([("QRCode", "T")]), ScanLimits(max_bytes=4096))
    assert (error.code, error.params) == ("photo-too-large", {"max_mb": 0})


@pytest.mark.parametrize("text", ["   ", "\t\r\n", "\x00\x01\x02", "x" * (MAX_TEXT + 1)])
def test_unusable_texts_are_refused(text: str) -> None:
    code = docs.code_image("QRCode", text)
    assert _refused(docs.png(code)).code == "barcode-unusable"
    assert _refused(docs.wallet_pass(docs.event_pass([{**PDF417, "message": text}]))).code == "barcode-unusable"


def test_the_corpus_aztec_of_nuls_is_refused_and_a_usable_neighbour_kept() -> None:
    nuls = Image.open(require_corpus() / "aztec" / "aztec-1_padding_bs.png").convert("L")
    assert _refused(docs.png(nuls)).code == "barcode-unusable"
    sheet = Image.new("L", (nuls.width + 700, max(nuls.height, 600)), 255)
    sheet.paste(nuls, (0, 0))
    sheet.paste(docs.code_image("QRCode", "TICKET-OK-1").resize((500, 500)), (nuls.width + 100, 50))
    assert scan_upload(docs.png(sheet), limits=LIMITS).found == (Found(Barcode("QRCode", "TICKET-OK-1")),)


async def test_async_upload_runs_on_the_scanner_threads() -> None:
    result = await scan_upload_async(docs.wallet_pass(docs.event_pass([PDF417])), limits=LIMITS)
    assert result.found[0].barcode.text == "TICKET-PASS-000123"
