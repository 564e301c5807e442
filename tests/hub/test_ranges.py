"""Attachments are served from disk in byte ranges (RFC 9110 §14), so a video player can seek and stream.

The headers the route always sent stay: disposition, nosniff and the sandbox CSP. A private
group's file is a 404 to a non-member, whether or not the request asks for a range.
"""

from __future__ import annotations

import pytest

from hub.services import accounts, attachments, groups, posts
from tests.support.web import signed_in

VIDEO = bytes(range(256)) * 4096  # 1 MiB, every byte's place recognisable


@pytest.fixture
def films(context):
    """An MP4 in public Engineering and one in private Board; Alice is in both, Carol in neither."""
    with context.session_scope() as session:
        alice = accounts.create_user(session, "alice@example.com", "Alice")
        accounts.create_user(session, "carol@example.com", "Carol")
        found = {}
        for slug, private in (("engineering", False), ("board", True)):
            group = groups.create_group(session, slug, slug.title(), private=private)
            groups.add_member(session, group, alice)
            post = posts.create_post(session, group, alice, "Montage lift B", "De video.")
            found[slug] = attachments.attach(session, post, "montage.mp4", "video/mp4", VIDEO).id
    return found


def url(attachment_id: int) -> str:
    return f"/attachments/{attachment_id}/montage.mp4"


def test_a_whole_video_is_served_inline_with_its_safety_headers_and_offers_ranges(context, films):
    answer = signed_in(context, "alice@example.com").get(url(films["engineering"]))

    assert answer.status_code == 200
    assert answer.content == VIDEO
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-disposition"] == "inline; filename*=UTF-8''montage.mp4"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"] == "sandbox"


def test_a_range_is_answered_206_with_only_those_bytes_and_where_they_lie(context, films):
    answer = signed_in(context, "alice@example.com").get(url(films["engineering"]), headers={"Range": "bytes=100-299"})

    assert answer.status_code == 206
    assert answer.content == VIDEO[100:300]
    assert answer.headers["content-range"] == f"bytes 100-299/{len(VIDEO)}"
    assert answer.headers["content-length"] == "200"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_range_larger_than_one_chunk_comes_whole(context, films):
    """The file goes out in chunks of 64 KiB; a seek far into it reads across many of them."""
    answer = signed_in(context, "alice@example.com").get(url(films["engineering"]), headers={"Range": "bytes=1000-"})

    assert answer.status_code == 206
    assert answer.content == VIDEO[1000:]
    assert answer.headers["content-range"] == f"bytes 1000-{len(VIDEO) - 1}/{len(VIDEO)}"


def test_a_suffix_range_gives_the_last_bytes(context, films):
    """A player reads an MP4's index from its end first."""
    answer = signed_in(context, "alice@example.com").get(url(films["engineering"]), headers={"Range": "bytes=-500"})

    assert answer.status_code == 206
    assert answer.content == VIDEO[-500:]
    assert answer.headers["content-range"] == f"bytes {len(VIDEO) - 500}-{len(VIDEO) - 1}/{len(VIDEO)}"


def test_two_ranges_come_as_multipart_byteranges(context, films):
    answer = signed_in(context, "alice@example.com").get(
        url(films["engineering"]), headers={"Range": "bytes=0-9,2000-2009"}
    )

    assert answer.status_code == 206
    assert answer.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert VIDEO[0:10] in answer.content and VIDEO[2000:2010] in answer.content


def test_a_range_past_the_end_is_416_with_the_size(context, films):
    answer = signed_in(context, "alice@example.com").get(
        url(films["engineering"]), headers={"Range": f"bytes={len(VIDEO)}-{len(VIDEO) + 10}"}
    )

    assert answer.status_code == 416
    assert answer.headers["content-range"] == f"bytes */{len(VIDEO)}"


@pytest.mark.parametrize("range_header", [None, "bytes=0-99", "bytes=-10", "bytes=99999999-"])
def test_a_non_member_gets_404_for_a_private_groups_file_with_or_without_a_range(context, films, range_header):
    headers = {"Range": range_header} if range_header else {}
    carol = signed_in(context, "carol@example.com")

    hidden = carol.get(url(films["board"]), headers=headers)
    missing = carol.get(url(films["board"] + 1000), headers=headers)

    assert hidden.status_code == missing.status_code == 404
    assert "content-range" not in hidden.headers
    assert hidden.text.replace(f"/attachments/{films['board']}/", "/attachments/N/") == missing.text.replace(
        f"/attachments/{films['board'] + 1000}/", "/attachments/N/"
    ).replace(f"no attachment {films['board'] + 1000}", f"no attachment {films['board']}")
