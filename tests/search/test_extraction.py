import io

import docx
import pytest
from fpdf import FPDF

from search import extraction
from search.extraction import Unreadable, extract_text

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def make_pdf(*pages):
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def make_docx():
    document = docx.Document()
    document.add_paragraph("Notulen van de ledenvergadering")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Penningmeester"
    table.cell(0, 1).text = "Fatima"
    table.cell(1, 0).text = "Kascontrole"
    table.cell(1, 1).text = "goedgekeurd"
    document.add_paragraph("Volgende vergadering in mei")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_pdf_text_is_extracted():
    pdf = make_pdf("Jaarverslag van de buurtvereniging", "Tweede pagina: begroting")
    text = extract_text(pdf, "application/pdf", "jaarverslag.pdf")
    assert "Jaarverslag van de buurtvereniging" in text
    assert "begroting" in text


def test_docx_text_is_extracted():
    text = extract_text(make_docx(), DOCX_TYPE, "notulen.docx")
    assert text.index("Notulen") < text.index("Penningmeester") < text.index("Volgende vergadering")
    assert "Kascontrole\tgoedgekeurd" in text


def test_the_file_name_decides_when_the_content_type_is_generic():
    pdf = make_pdf("Jaarverslag")
    assert "Jaarverslag" in extract_text(pdf, "application/octet-stream", "VERSLAG.PDF")


def test_a_broken_pdf_is_unreadable_with_the_reason():
    with pytest.raises(Unreadable, match="unreadable"):
        extract_text(b"%PDF-1.4 not really", "application/pdf", "kapot.pdf")


def test_a_broken_docx_is_unreadable():
    with pytest.raises(Unreadable):
        extract_text(b"PK\x03\x04 not a zip", DOCX_TYPE, "kapot.docx")


def test_a_docx_that_would_unpack_too_far_is_refused(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(Unreadable, match="would unpack beyond"):
        extract_text(make_docx(), DOCX_TYPE, "bom.docx")


def test_plain_markdown_and_csv_are_decoded():
    assert extract_text("Hé daar".encode(), "text/plain", "a.txt") == "Hé daar"
    assert extract_text(b"# Agenda\n- punt", "text/markdown", "agenda.md") == "# Agenda\n- punt"
    assert extract_text(b"naam;bedrag\nJan;12", "text/csv", "lijst.csv") == "naam;bedrag\nJan;12"


def test_the_declared_charset_is_used_and_bad_utf8_still_decodes():
    latin1 = "café".encode("latin-1")
    assert extract_text(latin1, "text/plain; charset=iso-8859-1", "a.txt") == "café"
    assert extract_text("café".encode("cp1252"), "text/plain", "a.txt") == "café"


def test_html_keeps_text_and_drops_tags_and_scripts():
    page = (
        b"<html><head><style>p{}</style><script>alert(1)</script></head>"
        b"<body><p>Buurt&amp;feest</p><div>zaterdag</div></body></html>"
    )
    text = extract_text(page, "text/html; charset=utf-8", "uitnodiging.html")
    assert "Buurt&feest" in text
    assert "zaterdag" in text
    assert "alert" not in text and "<p>" not in text and "p{}" not in text


def test_unknown_types_give_empty_text():
    assert extract_text(b"\x00\x01binary", "video/mp4", "film.mp4") == ""
    assert extract_text(b"hello", "application/octet-stream", "blob") == ""


def test_input_over_the_byte_cap_is_refused():
    with pytest.raises(Unreadable, match="larger than"):
        extract_text(b"a" * (extraction.MAX_INPUT_BYTES + 1), "text/plain", "groot.txt")


def test_output_is_capped():
    text = extract_text(b"woord " * (extraction.MAX_OUTPUT_CHARS // 2), "text/plain", "lang.txt")
    assert len(text) <= extraction.MAX_OUTPUT_CHARS
    assert text.startswith("woord woord")
