"""Mail to an archived group, over real SMTP to `plein run`: refused while the sender's server
is still connected, with the reason in the reply, and taken again once the group is reopened."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests.support.servers import PleinServer, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    plein = PleinServer(tmp_path_factory.mktemp("archive") / "data")
    outputs = plein.cli_batch(
        ["db", "upgrade"],
        ["user", "add", "owen@example.com", "--name", "Owen"],
        ["group", "create", "oud", "--name", "Oud"],
        ["group", "create", "open", "--name", "Open"],
        ["group", "add-member", "oud", "owen@example.com"],
        ["group", "add-member", "open", "owen@example.com"],
        ["group", "archive", "oud"],
        ["token", "create", "owen@example.com"],
    )
    assert outputs[-2] == "oud is archived\n"
    plein.token = outputs[-1].strip()
    plein.start()
    yield plein
    plein.stop()


def mail(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Owen <owen@example.com>", to, subject
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Nog iemand koffie?")
    return message


def titles(server: PleinServer, group: str) -> list[str]:
    return [p["title"] for p in server.api(server.token, f"/api/groups/{group}/posts").json()["posts"]]


def test_mail_to_an_archived_group_is_refused_at_rcpt_with_the_reason(server):
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.send_message(mail(f"oud@{server.domain}", "Naar het archief"))
        code, reason = refused.value.recipients[f"oud@{server.domain}"]
        assert code == 550 and b"5.2.1" in reason and b"archived" in reason
        assert smtp.send_message(mail(f"open@{server.domain}", "Naar de open groep")) == {}
    wait_for(lambda: titles(server, "open") == ["Naar de open groep"], what="the post in the open group")
    assert titles(server, "oud") == []
    assert server.api(server.token, "/api/groups/oud/posts").status_code == 200  # still readable


def test_a_reopened_group_takes_mail_again(server):
    assert server.cli("group", "archive", "oud", "--reopen").stdout == "oud is open\n"
    with smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=10) as smtp:
        assert smtp.send_message(mail(f"oud@{server.domain}", "Weer open")) == {}
    wait_for(lambda: titles(server, "oud") == ["Weer open"], what="the post in the reopened group")
