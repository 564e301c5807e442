"""An A4 page of Dutch and English text rendered as a 300 dpi scan, for OCR tests and bench/ocr.py.

Also where tests learn whether Tesseract is here: they skip with the reason where it is missing,
except under CI=true, where `.ci/run` installs `tesseract-ocr tesseract-ocr-nld tesseract-ocr-eng`.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
from PIL import Image, ImageDraw, ImageFont

A4_AT_300_DPI = (2480, 3508)
LINES = [
    "Verslag van de bewonersavond over het glasvezelnet",
    "De aannemer begint dinsdag met graven in de Dorpsstraat.",
    "Minutes of the residents meeting about the fibre network",
    "The contractor will dig the trench on Tuesday morning.",
]


def a4_scan(lines: list[str] = LINES, repeat: int = 8, image_format: str = "PNG") -> bytes:
    """`lines` again and again down an A4 page at 300 dpi, in 12-point type, as a grey scan."""
    page = Image.new("L", A4_AT_300_DPI, 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=50)
    for number, line in enumerate(lines * repeat):
        draw.text((240, 300 + number * 95), line, font=font, fill=20)
    out = io.BytesIO()
    page.save(out, image_format, dpi=(300, 300))
    return out.getvalue()


def require_tesseract() -> None:
    """Skip, or fail under CI, unless Tesseract reads Dutch and English here."""
    languages = ""
    if shutil.which("tesseract"):
        languages = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    if not {"nld", "eng"} <= set(languages.split()):
        if os.environ.get("CI") == "true":
            pytest.fail("tesseract with nld and eng is missing under CI: .ci/run installs it")
        pytest.skip("tesseract is not installed with Dutch and English (apt-get install tesseract-ocr-nld)")
