"""The extraction lane: files are read beside the index's flushes, never inside them (issue 19).

A scan that Tesseract reads for seconds, or a file that keeps pypdf busy to its time limit,
must not hold back the next post: the flush indexes a file by its name and hands it to
`plein.extract.read`, whose worker keeps the text and marks the post for a later flush.
"""

import threading
import time

from hub.models import Attachment
from hub.services import index_writer
from tests.search.test_extraction_limits import found, limits, mail, receive, spinning_pdf  # noqa: F401  limits: a fixture
from tests.support.scans import a4_scan, require_tesseract


def test_the_flush_hands_the_files_it_could_not_read_yet_to_the_extraction_lane(context, limits, monkeypatch):  # noqa: F811
    queued = []
    receive(context, mail("Offerte", "In de bijlage.", ("offerte.txt", "text/plain", b"zonnepanelen"),
                          ("film.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42")))
    monkeypatch.setattr(index_writer.jobs, "after_commit", lambda session, *job: queued.append(job))
    index_writer.flush(context)
    with context.session_scope() as session:
        [text_file] = session.query(Attachment).filter_by(filename="offerte.txt")
    assert queued == [(index_writer.READ_TASK, [text_file.id])], "a video has no text to read"
    assert found(context, "offerte.txt") == [("document", "offerte.txt")], "found by its name at once"
    index_writer.read_documents(context, [text_file.id])
    index_writer.read_documents(context, [text_file.id])  # the task may run twice
    index_writer.flush(context)
    assert found(context, "zonnepanelen") == [("document", "offerte.txt")]


def test_a_scan_being_read_does_not_delay_a_new_post_and_is_found_when_read(context, limits):  # noqa: F811
    require_tesseract()
    limits(seconds=3)
    receive(context, mail("Whiteboard", "Foto van het bord.", ("whiteboard.png", "image/png", a4_scan()),
                          ("traag.pdf", "application/pdf", spinning_pdf())))
    index_writer.flush(context)
    with context.session_scope() as session:
        waiting = [a.id for a in session.query(Attachment).order_by(Attachment.id)]
    lane = threading.Thread(target=index_writer.read_documents, args=(context, waiting))
    lane.start()
    time.sleep(0.5)  # the lane is reading the scan
    receive(context, mail("Lunch", "Vrijdag is er soep in de kantine."))
    started = time.monotonic()
    index_writer.flush(context)
    searchable_after = time.monotonic() - started
    assert found(context, "soep kantine") == [("post", "Lunch")]
    assert searchable_after < 2, f"the post took {searchable_after:.1f} s to be found"
    assert lane.is_alive(), "the scan was still being read meanwhile"
    lane.join(timeout=120)
    index_writer.flush(context)
    assert found(context, "aannemer glasvezelnet") == [("photo", "whiteboard.png")]
    with context.session_scope() as session:
        errors = {a.filename: a.extraction_error for a in session.query(Attachment)}
    assert errors == {"whiteboard.png": None, "traag.pdf": "took longer than 3 seconds"}
    assert found(context, "traag kind:document") == [("document", "traag.pdf")]
