import pytest

from hub.services.attachments import DOCUMENT, PHOTO, VIDEO, media_kind


@pytest.mark.parametrize(
    ("content_type", "filename", "kind"),
    [
        ("image/jpeg", "whiteboard.jpg", PHOTO),
        ("image/heic", "IMG_0042.HEIC", PHOTO),
        ("application/octet-stream", "IMG_0042.heic", PHOTO),
        ("IMAGE/PNG; name=scan.png", "scan", PHOTO),
        ("video/mp4", "demo.mp4", VIDEO),
        ("application/octet-stream", "clip.webm", VIDEO),
        ("video/quicktime", "IMG_0043.MOV", VIDEO),
        ("application/pdf", "plan.pdf", DOCUMENT),
        ("image/svg+xml", "logo.svg", DOCUMENT),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "deck.pptx", DOCUMENT),
    ],
)
def test_a_file_is_shown_and_found_as_a_photo_a_video_or_a_document(content_type, filename, kind):
    assert media_kind(content_type, filename) == kind
