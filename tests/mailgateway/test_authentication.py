"""Believing a From: Authentication-Results of trusted relays, and DKIM verified against a real DNS server."""

import doctest
from email.message import EmailMessage

import dkim
import pytest

import mailgateway.authentication
from mailgateway.authentication import (
    aligned,
    dkim_verdict,
    parse_authentication_results,
    relay_verdict,
    sender_verdict,
    txt_lookup,
)
from tests.support.dnsmasq import Dnsmasq, new_dkim_key

TRUSTED = ["mx.corp.example"]


def test_the_module_examples_hold():
    assert doctest.testmod(mailgateway.authentication).failed == 0


def test_a_header_with_comments_quotes_versions_and_folding_is_parsed():
    parsed = parse_authentication_results(
        'MX.Corp.Example 1;\r\n\tdkim=pass (2048-bit key; unprotected) header.d=corp.example header.s="s1;x"'
        ' header.b=AbCd;\r\n spf=softfail (sender IP is 10.0.0.1) smtp.mailfrom=corp.example;'
        ' dmarc/1=pass (p=REJECT) header.from=Corp.Example; auth=pass smtp.auth=alice'
    )
    assert parsed.authserv_id == "mx.corp.example"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"), ("spf", "softfail"), ("dmarc", "pass"), ("auth", "pass"),
    ]
    assert parsed.results[0].properties["header.s"] == "s1;x"
    assert parsed.results[2].properties == {"header.from": "corp.example"}


def test_a_header_that_says_none_has_no_results():
    assert parse_authentication_results("mx.corp.example; none").results == ()
    assert parse_authentication_results("  ") is None


@pytest.mark.parametrize("signer, sender, expected", [
    ("corp.example", "corp.example", True),
    ("corp.example", "nl.corp.example", True),
    ("mail.corp.example", "corp.example", True),
    ("CORP.example.", "corp.example", True),
    ("a.corp.example", "b.corp.example", False),
    ("example", "corp.example", False),
    ("evilcorp.example", "corp.example", False),
    ("gmail.com", "corp.example", False),
])
def test_alignment_is_relaxed_between_a_domain_and_its_subdomains(signer, sender, expected):
    assert aligned(signer, sender) is expected


def test_dmarc_pass_from_a_trusted_relay_vouches_for_the_from():
    verdict = relay_verdict(["mx.corp.example; dmarc=pass header.from=corp.example"], "alice@corp.example", TRUSTED)
    assert verdict.trusted and "dmarc=pass" in verdict.reason


def test_a_dmarc_pass_for_another_domain_does_not_count():
    verdict = relay_verdict(["mx.corp.example; dmarc=pass header.from=other.example"], "alice@corp.example", TRUSTED)
    assert not verdict.trusted


def test_dkim_pass_counts_only_when_its_domain_is_aligned_with_from():
    good = relay_verdict(["mx.corp.example; dkim=pass header.d=corp.example"], "alice@corp.example", TRUSTED)
    stranger = relay_verdict(["mx.corp.example; dkim=pass header.d=mailer.example"], "alice@corp.example", TRUSTED)
    assert good.trusted
    assert not stranger.trusted
    assert "no DMARC pass nor aligned DKIM pass" in stranger.reason


def test_spf_pass_alone_does_not_vouch_for_the_from():
    verdict = relay_verdict(["mx.corp.example; spf=pass smtp.mailfrom=corp.example"], "alice@corp.example", TRUSTED)
    assert not verdict.trusted


def test_a_forged_header_from_an_untrusted_authserv_id_counts_for_nothing():
    forged = ["evil.example; dmarc=pass header.from=corp.example; dkim=pass header.d=corp.example"]
    verdict = relay_verdict(forged, "alice@corp.example", TRUSTED)
    assert not verdict.trusted
    assert "no Authentication-Results from a trusted relay" in verdict.reason


def test_a_trusted_fail_is_not_saved_by_a_forged_pass():
    headers = ["evil.example; dmarc=pass header.from=corp.example", "mx.corp.example; dmarc=fail; dkim=fail"]
    assert not relay_verdict(headers, "alice@corp.example", TRUSTED).trusted


def test_without_trusted_ids_nothing_is_believed():
    verdict = relay_verdict(["mx.corp.example; dmarc=pass"], "alice@corp.example", [])
    assert not verdict.trusted and "PLEIN_TRUSTED_AUTHSERV_IDS" in verdict.reason


def test_relay_mode_reads_the_headers_of_the_raw_message():
    message = plain_mail()
    message["Authentication-Results"] = "mx.corp.example; dkim=pass header.d=corp.example"
    assert sender_verdict(message.as_bytes(), "alice@corp.example", "relay", trusted_ids=TRUSTED).trusted
    assert not sender_verdict(plain_mail().as_bytes(), "alice@corp.example", "relay", trusted_ids=TRUSTED).trusted


def test_mode_none_believes_every_from():
    assert sender_verdict(plain_mail().as_bytes(), "alice@corp.example", "none").trusted


def plain_mail(sender: str = "alice@corp.example") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Alice <{sender}>"
    message["To"] = "engineering@plein.test"
    message["Subject"] = "Storing in Zeist"
    message["Message-ID"] = "<1@corp.example>"
    message.set_content("De kast is weer open.")
    return message


SIGNED = [b"from", b"to", b"subject", b"message-id"]


@pytest.fixture(scope="module")
def dkim_dns():
    """dnsmasq publishing one DKIM key for corp.example (selector `sel`); yields the private key and server."""
    private, public = new_dkim_key()
    with Dnsmasq({"sel._domainkey.corp.example": f"v=DKIM1; k=rsa; p={public}"}) as server:
        yield private, server


def signed(private: bytes, domain: str = "corp.example", sender: str = "alice@corp.example") -> bytes:
    raw = plain_mail(sender).as_bytes()
    signature = dkim.sign(raw, b"sel", domain.encode(), private, include_headers=SIGNED)
    return signature + raw


def test_a_dkim_signature_verifies_against_the_key_in_dns(dkim_dns):
    private, server = dkim_dns
    verdict = dkim_verdict(signed(private), "alice@corp.example", txt_lookup(server.address))
    assert verdict.trusted, verdict.reason
    assert verdict.reason == "DKIM signature of corp.example verified"


def test_dkim_mode_goes_through_the_configured_resolver(dkim_dns):
    private, server = dkim_dns
    assert sender_verdict(signed(private), "alice@nl.corp.example", "dkim", lookup=txt_lookup(server.address)).trusted


def test_a_message_changed_after_signing_fails_dkim(dkim_dns):
    private, server = dkim_dns
    tampered = signed(private).replace(b"Storing in Zeist", b"Storing in Zwolle")
    verdict = dkim_verdict(tampered, "alice@corp.example", txt_lookup(server.address))
    assert not verdict.trusted
    assert "did not verify" in verdict.reason


def test_a_good_signature_of_another_domain_does_not_vouch_for_the_from(dkim_dns):
    private, server = dkim_dns
    verdict = dkim_verdict(signed(private, sender="ceo@other.example"), "ceo@other.example",
                           txt_lookup(server.address))
    assert not verdict.trusted
    assert "d=corp.example is not aligned with other.example" in verdict.reason


def test_a_signature_whose_key_is_not_in_dns_fails(dkim_dns):
    private, server = dkim_dns
    verdict = dkim_verdict(signed(private, domain="nl.corp.example", sender="alice@nl.corp.example"),
                           "alice@nl.corp.example", txt_lookup(server.address))
    assert not verdict.trusted


def test_an_unsigned_message_fails_dkim_without_a_lookup():
    def no_lookup(name, timeout=5):
        raise AssertionError("no DNS lookup expected")

    verdict = dkim_verdict(plain_mail().as_bytes(), "alice@corp.example", no_lookup)
    assert (verdict.trusted, verdict.reason) == (False, "the message has no DKIM signature")


def test_a_subject_added_above_a_signed_one_leaves_the_signature_vouching_for_nothing(dkim_dns):
    private, server = dkim_dns
    verdict = dkim_verdict(b"Subject: Betaal nu\r\n" + signed(private), "alice@corp.example", txt_lookup(server.address))
    assert not verdict.trusted
    assert verdict.reason.endswith("d=corp.example does not sign every Subject header")


def test_a_signature_that_signs_each_header_once_more_than_present_still_vouches(dkim_dns):
    private, server = dkim_dns
    raw = plain_mail().as_bytes()
    signature = dkim.sign(raw, b"sel", b"corp.example", private, include_headers=SIGNED + [b"subject", b"cc"])
    assert dkim_verdict(signature + raw, "alice@corp.example", txt_lookup(server.address)).trusted


def test_a_signature_that_leaves_out_a_header_plein_reads_does_not_vouch(dkim_dns):
    private, server = dkim_dns
    raw = plain_mail().as_bytes()
    signature = dkim.sign(raw, b"sel", b"corp.example", private, include_headers=[b"from", b"to", b"message-id"])
    verdict = dkim_verdict(signature + raw, "alice@corp.example", txt_lookup(server.address))
    assert (verdict.trusted, verdict.reason) == (
        False, "no aligned DKIM signature verified: d=corp.example does not sign every Subject header",
    )
