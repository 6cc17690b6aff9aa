"""PDF e-tickets: every barcode on every page (pypdfium2), the page rendered at a resolution that suits barcodes and
the page's embedded images read as they are; refusals for encrypted, broken or empty, and overlong PDFs."""

from __future__ import annotations

from collections.abc import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from services.barcode_values import Barcode, check_budget
from services.barcodes import decode, jpeg_of, quick_read
from services.errors import DomainError

RENDER_DPI = 150  # a 2 cm QR code of 33 modules gets 3.6 pixels a module: enough for zxing-cpp, and fast
PDF_POINTS_PER_INCH = 72
MIN_IMAGE_SIDE = 64  # embedded images smaller than this are logos and rules, not barcodes


def _open(data: bytes, max_pages: int) -> pdfium.PdfDocument:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # An empty user password opens (permissions only): only a real password refuses. pdfium's error code is the
        # thread's last one and stays stale where a load fails without one (an empty page tree), so a password
        # error counts only in a file that has an encryption dictionary.
        locked = error.err_code == pdfium_c.FPDF_ERR_PASSWORD and b"/Encrypt" in data
        raise DomainError("pdf-encrypted" if locked else "pdf-broken") from None
    if not 0 < len(document) <= max_pages:
        pages = len(document)
        document.close()
        raise DomainError("pdf-too-many-pages", max_pages=max_pages) if pages else DomainError("pdf-broken")
    return document


def _scale(page: pdfium.PdfPage, max_decoded_bytes: int) -> float:
    """RENDER_DPI, less for a page so large that its grey rendering would not fit the memory budget."""
    width, height = page.get_size()
    scale = RENDER_DPI / PDF_POINTS_PER_INCH
    fit: float = (max_decoded_bytes / max(1.0, width * height)) ** 0.5
    return min(scale, fit)


def _rendered(page: pdfium.PdfPage, max_decoded_bytes: int) -> Image.Image:
    image: Image.Image = page.render(scale=_scale(page, max_decoded_bytes), grayscale=True).to_pil().convert("L")
    return image


def _embedded(page: pdfium.PdfPage, max_decoded_bytes: int) -> Iterator[Image.Image]:
    """The page's images as stored: a barcode placed as a picture reads better at its own resolution."""
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        size = image.get_px_size()
        if min(size) < MIN_IMAGE_SIDE:
            continue
        try:
            check_budget("RGBA", size, max_decoded_bytes)
            yield image.get_bitmap().to_pil().convert("L")
        except (DomainError, pdfium.PdfiumError):
            continue


def _page_barcodes(page: pdfium.PdfPage, max_decoded_bytes: int, *, thorough: bool) -> tuple[Barcode, ...]:
    """The quick read of the rendered page, or (thorough) the whole cascade on it and then on its images."""
    rendered = _rendered(page, max_decoded_bytes)
    if not thorough:
        return quick_read(rendered)
    if found := decode(rendered):
        return found
    for image in _embedded(page, max_decoded_bytes):
        if found := decode(image):
            return found
    return ()


def _scan(document: pdfium.PdfDocument, max_decoded_bytes: int, *, thorough: bool) -> dict[Barcode, int]:
    found: dict[Barcode, int] = {}
    for index in range(len(document)):
        page = document[index]
        try:
            for barcode in _page_barcodes(page, max_decoded_bytes, thorough=thorough):
                found.setdefault(barcode, index + 1)
        finally:
            page.close()
    return found


def barcodes_by_page(data: bytes, *, max_pages: int, max_decoded_bytes: int) -> list[tuple[int, Barcode]]:
    """(page number from 1, barcode) for every barcode of the PDF, each once. A rendered e-ticket is clean and
    upright: every page gets the quick read first, and only a PDF where that finds nothing gets the whole cascade
    on every page and its embedded images. Raises DomainError (pdf-encrypted, pdf-broken: damaged or no page,
    pdf-too-many-pages)."""
    document = _open(data, max_pages)
    try:
        found = _scan(document, max_decoded_bytes, thorough=False) or _scan(document, max_decoded_bytes, thorough=True)
    except pdfium.PdfiumError:
        raise DomainError("pdf-broken") from None
    finally:
        document.close()
    return [(page, barcode) for barcode, page in found.items()]


def page_jpeg(data: bytes, page: int, *, max_decoded_bytes: int) -> bytes:
    """Page `page` (from 1) of a PDF already scanned, as a JPEG: what the buyer gets beside the rendered barcode."""
    document = pdfium.PdfDocument(data)
    try:
        rendered = document[page - 1]
        try:
            image = rendered.render(scale=_scale(rendered, max_decoded_bytes // 4)).to_pil().convert("RGB")
        finally:
            rendered.close()
    finally:
        document.close()
    return jpeg_of(image)
