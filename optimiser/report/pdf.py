"""The board pack as a PDF, with WeasyPrint, and a check of how it lays out on paper. No Streamlit.

`pdf_bytes` renders a pack's HTML (`optimiser.report.boardpack`) with WeasyPrint, which reads
its print CSS (A4, margins, page breaks). WeasyPrint needs Pango from the system (Debian:
``libpango-1.0-0 libpangoft2-1.0-0``; see the README's install step): without it `PdfError`
says what to install. `layout` renders the same HTML and reports each page's size and text and
every box that runs past the page's printable width, so a test (or a caller) can tell that no
table runs off the paper. Nothing is fetched from the network: the pack holds its map as a
``data:`` image, and any other URL is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optimiser.errors import OptimiserError

MM_PER_PX = 25.4 / 96  # CSS pixels, as WeasyPrint lays out
A4_MM = (210.0, 297.0)


class PdfError(OptimiserError):
    """The PDF cannot be made (WeasyPrint or the system's Pango is missing)."""

    exit_code = 1


@dataclass(frozen=True)
class PageLayout:
    """One laid-out page: its size in mm, its text, and the boxes past its printable width."""

    width_mm: float
    height_mm: float
    text: str
    overflowing: tuple[str, ...]


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as err:  # OSError: the Pango library is missing
        msg = (
            f"The PDF cannot be made: WeasyPrint could not load ({err}). Install it with "
            "`pip install -r requirements.txt` and, on Debian or Ubuntu, its libraries with "
            "`apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0` (see README)."
        )
        raise PdfError(msg) from err
    return weasyprint


def _document(page_html: str) -> Any:
    weasyprint = _weasyprint()
    from weasyprint.urls import URLFetcher

    # only data: URLs (the map); anything else stops the rendering rather than being fetched
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    try:
        return weasyprint.HTML(string=page_html, url_fetcher=fetcher).render()
    except weasyprint.urls.FatalURLFetchingError as err:
        msg = f"The board pack may only hold what it shows, not load it from elsewhere: {err}."
        raise PdfError(msg) from None


def pdf_bytes(page_html: str) -> bytes:
    """The pack's HTML as a PDF (A4, from its print CSS)."""
    return bytes(_document(page_html).write_pdf())


def layout(page_html: str) -> list[PageLayout]:
    """How the pack lays out on paper: per page, its size, its text and any box past the
    printable width (named by its element and the start of its text)."""
    pages = []
    for page in _document(page_html).pages:
        box = page._page_box  # WeasyPrint's laid-out page (documented in its API tutorial)
        right = box.content_box_x() + box.width + 0.5  # the printable area's right edge, in px
        texts: list[str] = []
        over: list[str] = []

        def walk(b: Any, texts: list[str] = texts, over: list[str] = over, right: float = right) -> None:
            text = getattr(b, "text", None)
            if isinstance(text, str):
                texts.append(text)
            edge = getattr(b, "position_x", 0.0) + (b.margin_width() if hasattr(b, "margin_width") else 0.0)
            if (
                hasattr(b, "margin_width")
                and edge > right
                and getattr(b, "element_tag", "") not in ("html", "body")
            ):
                words = text if isinstance(text, str) else ""
                over.append(
                    f"<{getattr(b, 'element_tag', '?')}> {words[:40]} ({(edge - right) * MM_PER_PX:.1f} mm over)"
                )
            for child in getattr(b, "children", ()):
                if type(child).__name__ != "MarginBox":  # running footers sit in the margin by design
                    walk(child)

        for child in box.children:  # the page box itself spans the paper, margins and all
            if type(child).__name__ != "MarginBox":
                walk(child)
        pages.append(
            PageLayout(
                width_mm=page.width * MM_PER_PX,
                height_mm=page.height * MM_PER_PX,
                text=" ".join(texts),
                overflowing=tuple(over),
            )
        )
    return pages
