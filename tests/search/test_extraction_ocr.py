"""Text in photos and scans, read by Tesseract in the extractor's child, within its limits."""

import io
import re
import time

import pytest
from PIL import Image

from search import extraction
from search.extraction import Unreadable, can_extract, extract_text, needs_ocr
from search.extractor import extract_within
from tests.support.scans import a4_scan, require_tesseract

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def tesseract():
    require_tesseract()


def test_the_words_of_a_scanned_a4_page_are_found_in_dutch_and_english():
    started = time.monotonic()
    read = extract_within(a4_scan(), "image/png", "scan.png", 60, 512 * MB)
    assert read.failure is None
    assert time.monotonic() - started < 30
    words = set(re.findall(r"\w+", read.text.lower()))
    assert {"glasvezelnet", "aannemer", "dinsdag", "dorpsstraat", "contractor", "tuesday"} <= words


def test_a_photo_taken_sideways_is_turned_upright_before_it_is_read():
    page = Image.open(io.BytesIO(a4_scan(repeat=2))).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show it turned back a quarter clockwise
    out = io.BytesIO()
    page.save(out, "JPEG", exif=exif, quality=90)
    assert "aannemer" in extract_text(out.getvalue(), "image/jpeg", "foto.jpg").lower()


def test_a_huge_image_is_scaled_down_before_it_is_read(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_OCR_PIXELS", 4_000_000)
    assert "aannemer" in extract_text(a4_scan(repeat=2), "image/png", "scan.png").lower()


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, "PNG")
    started = time.monotonic()
    with pytest.raises(Unreadable, match="more than 60,000,000"):
        extract_text(out.getvalue(), "image/png", "bom.png")
    assert time.monotonic() - started < 2


def test_a_truncated_image_is_unreadable_and_the_next_one_is_read():
    assert extract_within(a4_scan()[:5000], "image/png", "kapot.png", 30, 512 * MB).failure
    assert "aannemer" in extract_within(a4_scan(repeat=1), "", "scan.png", 30, 512 * MB).text.lower()


def test_images_are_read_by_ocr_by_type_and_by_name():
    assert needs_ocr("image/jpeg", "x") and needs_ocr("", "whiteboard.JPG") and can_extract("image/webp", "x")
    assert not needs_ocr("application/pdf", "x.pdf")
