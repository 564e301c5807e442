"""PPTX, XLSX and OpenDocument text, and Office files that cannot be read: password-protected, broken, bombs."""

import io
import zipfile

import openpyxl
import pptx
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from search import extraction
from search.extraction import Unreadable, can_extract, extract_text
from search.extractor import extract_within

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT_TYPE = "application/vnd.oasis.opendocument.text"
MB = 1024 * 1024


def make_pptx() -> bytes:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Kwartaalcijfers"
    slide.placeholders[1].text = "De omzet van het glasvezelproject steeg"
    slide.notes_slide.notes_text_frame.text = "Spreeknotitie: bedank de monteurs"
    table = presentation.slides.add_slide(presentation.slide_layouts[5]).shapes.add_table(1, 2, 0, 0, 100, 100).table
    table.cell(0, 0).text, table.cell(0, 1).text = "Wijkkast", "Lindelaan"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Begroting"
    sheet.append(["Post", "Bedrag"])
    sheet.append(["Mantelbuis", 1200])
    workbook.create_sheet("Planning").append(["Graven", "dinsdag"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_odf(mimetype: str, body: str, declaration: str = "") -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>{declaration}'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
        ' xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
    return out.getvalue()


def test_a_presentation_gives_its_slides_tables_and_speaker_notes():
    text = extract_text(make_pptx(), PPTX_TYPE, "cijfers.pptx")
    for words in ("Kwartaalcijfers", "glasvezelproject", "bedank de monteurs", "Wijkkast\tLindelaan"):
        assert words in text


def test_a_workbook_gives_its_sheet_names_and_cell_values():
    assert extract_text(make_xlsx(), XLSX_TYPE, "begroting.xlsx") == (
        "Begroting\nPost\tBedrag\nMantelbuis\t1200\nPlanning\nGraven\tdinsdag"
    )


def test_opendocument_text_sheets_and_slides_give_their_paragraphs():
    odt = make_odf(ODT_TYPE, "<office:text><text:h>Notulen</text:h><text:p>Het<text:s/>dak<text:tab/>lekt"
                             "<text:span> nog steeds</text:span></text:p></office:text>")
    assert extract_text(odt, ODT_TYPE, "notulen.odt") == "Notulen\nHet dak lekt nog steeds"
    ods = make_odf("application/vnd.oasis.opendocument.spreadsheet", '<office:spreadsheet><table:table table:name='
                   '"Uren"><table:table-row><table:table-cell><text:p>Overuren</text:p></table:table-cell>'
                   "</table:table-row></table:table></office:spreadsheet>")
    assert extract_text(ods, "application/octet-stream", "uren.ods") == "Uren\nOveruren"
    odp = make_odf("application/vnd.oasis.opendocument.presentation", "<office:presentation><draw:page><draw:frame>"
                   "<draw:text-box><text:p>Dia over zonnepanelen</text:p></draw:text-box></draw:frame>"
                   "<presentation:notes><draw:frame><draw:text-box><text:p>Notitie bij de dia</text:p>"
                   "</draw:text-box></draw:frame></presentation:notes></draw:page></office:presentation>")
    assert extract_text(odp, "", "dia.odp") == "Dia over zonnepanelen\nNotitie bij de dia"


def test_the_new_formats_are_known_by_type_and_by_name():
    assert can_extract(XLSX_TYPE, "x") and can_extract("application/octet-stream", "Cijfers.PPTX")
    assert can_extract("", "brief.odt") and not can_extract("video/mp4", "film.mp4")


def test_an_opendocument_with_entities_is_refused_not_expanded():
    laughs = '<!DOCTYPE d [<!ENTITY a "hahahahahahahahahaha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    bomb = make_odf(ODT_TYPE, "<office:text><text:p>&b;</text:p></office:text>", declaration=laughs)
    with pytest.raises(Unreadable, match="EntitiesForbidden"):
        extract_text(bomb, ODT_TYPE, "lach.odt")


def test_a_password_protected_workbook_is_unreadable_with_that_reason():
    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(make_xlsx())).encrypt("geheim", encrypted)
    with pytest.raises(Unreadable, match="^password-protected$"):
        extract_text(encrypted.getvalue(), XLSX_TYPE, "salarissen.xlsx")


@pytest.mark.parametrize("filename", ["kapot.pptx", "kapot.xlsx", "kapot.odt", "kapot.docx"])
def test_a_broken_office_file_is_unreadable_with_the_reason(filename):
    with pytest.raises(Unreadable, match="broken: not a zip archive"):
        extract_text(b"PK\x03\x04 afgebroken", "", filename)
    truncated = make_pptx()[:3000]
    with pytest.raises(Unreadable):
        extract_text(truncated, "", filename)


def test_an_office_file_that_would_unpack_too_far_is_refused(monkeypatch):
    monkeypatch.setattr(extraction, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(Unreadable, match="would unpack beyond"):
        extract_text(make_xlsx(), XLSX_TYPE, "groot.xlsx")


def zip_bomb_xlsx(rows: int) -> bytes:
    """A workbook whose one sheet is `rows` rows of cells: tens of megabytes of XML in a few hundred kilobytes."""
    xlsx = zipfile.ZipFile(io.BytesIO(make_xlsx()))
    row = "".join(f'<c r="{column}1"><v>7</v></c>' for column in "ABCDEFGHIJ")
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        f'2006/main"><dimension ref="A1:XFD1048576"/><sheetData>{("<row>" + row + "</row>") * rows}</sheetData>'
        "</worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member in xlsx.infolist():
            data = sheet if member.filename == "xl/worksheets/sheet1.xml" else xlsx.read(member)
            archive.writestr(member.filename, data)
    return out.getvalue()


def test_a_million_cell_workbook_is_read_row_by_row_within_the_limits():
    bomb = zip_bomb_xlsx(100_000)
    assert len(bomb) < MB
    read = extract_within(bomb, XLSX_TYPE, "miljoen.xlsx", 60, 192 * MB)
    assert read.failure is None
    assert read.text.startswith("Begroting\n7\t7\t")
    assert len(read.text) == extraction.MAX_OUTPUT_CHARS - 1, "read up to the cap on the text, no further"


def test_a_zip_bomb_is_stopped_by_the_limits_and_the_next_file_is_read():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", b"<a>" + b"<b>" * 50_000_000)
    read = extract_within(out.getvalue(), ODT_TYPE, "bom.odt", 5, 256 * MB)
    assert read.text == "" and read.failure
    assert extract_within(b"daarna gewoon", "text/plain", "x.txt", 10, 256 * MB).text == "daarna gewoon"
