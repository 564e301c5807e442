"""Whether a message's From can be believed: Authentication-Results from a trusted relay, or DKIM.

Anyone can write any address in From. Two ways tell a genuine one from a forgery:

- `relay`: a mail server in front of Plein checked DKIM, SPF and DMARC and wrote what it found
  in an `Authentication-Results` header (RFC 8601). Only headers whose authserv-id is one of the
  trusted ones count: any sender can add such a header, so one from an unknown authserv-id counts
  for nothing. The relay must remove headers bearing its own id from incoming mail (RFC 8601 §5),
  which every MTA that writes them does.
- `dkim`: Plein verifies the DKIM signatures itself (RFC 6376) with dkimpy, looking keys up in DNS.
  A signature counts only when it covers every header Plein reads, each as many times as the
  message has it, and the whole body (no l=): otherwise a signed mail could be replayed with a
  Subject or text of the replayer's own above or below what was signed (RFC 6376 §8.2, §8.15).

Either way a pass counts only when it is about the From domain: DMARC passed for it, or a DKIM
signature passed whose signing domain (d=) is aligned with it (RFC 7489 §3.1.1, relaxed: the same
domain, or one a subdomain of the other; without the Public Suffix List, sibling subdomains of one
organization are not taken as aligned, which errs on the safe side).

    >>> verdict = relay_verdict(
    ...     ["mx.corp.example; dkim=pass header.d=corp.example header.s=sel; spf=fail"],
    ...     "alice@mail.corp.example", ["mx.corp.example"])
    >>> verdict.trusted, verdict.reason
    (True, 'dkim=pass for corp.example from mx.corp.example')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser

import dkim
import dns.exception
import dns.resolver

MODES = ("none", "relay", "dkim")
"""`PLEIN_INBOUND_AUTH`: believe every From, believe trusted relays, or verify DKIM here."""


@dataclass(frozen=True)
class MethodResult:
    """One `method=result` of an Authentication-Results header, with its properties (`header.d`, ...)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: tuple[MethodResult, ...]


@dataclass(frozen=True)
class Verdict:
    trusted: bool
    reason: str


def _without_comments(value: str) -> str:
    """The header value with its RFC 5322 comments (nested parentheses) removed, quoted strings kept."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(" ")
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    return "".join(out)


def _split_outside_quotes(value: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


_PAIR = re.compile(r'([A-Za-z0-9_.\-/]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """Parse one `Authentication-Results` header value (RFC 8601 §2.2); None when it has no authserv-id.

    >>> parse_authentication_results('mx.example.org 1; dkim=pass (good) header.d=Example.com;'
    ...                              ' dmarc=fail header.from=example.com')
    ... # doctest: +NORMALIZE_WHITESPACE
    AuthenticationResults(authserv_id='mx.example.org',
        results=(MethodResult(method='dkim', result='pass', properties={'header.d': 'example.com'}),
                 MethodResult(method='dmarc', result='fail', properties={'header.from': 'example.com'})))
    """
    head, *resinfos = _split_outside_quotes(_without_comments(value).replace("\r", " ").replace("\n", " "), ";")
    words = head.split()
    if not words:
        return None
    authserv_id = words[0].strip('"').lower()
    results = []
    for resinfo in resinfos:
        pairs = [(key.lower(), raw.strip('"')) for key, raw in _PAIR.findall(resinfo)]
        if not pairs or pairs[0][0] == "none":
            continue
        method, result = pairs[0]
        properties = {key: item.lower() for key, item in pairs[1:] if "." in key}
        results.append(MethodResult(method.split("/")[0], result.lower(), properties))
    return AuthenticationResults(authserv_id, tuple(results))


def domain_of(address: str) -> str:
    return address.strip().strip("<>").rpartition("@")[2].rstrip(".").lower()


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1.1), short of the Public Suffix List: equal, or one under the other.

    >>> aligned("corp.example", "mail.corp.example"), aligned("mail.corp.example", "corp.example")
    (True, True)
    >>> aligned("example", "corp.example"), aligned("evil.example", "corp.example")
    (False, False)
    """
    signing, sender = signing_domain.rstrip(".").lower(), from_domain.rstrip(".").lower()
    if not signing or not sender or "." not in signing or "." not in sender:
        return False
    return signing == sender or sender.endswith("." + signing) or signing.endswith("." + sender)


def relay_verdict(headers: Iterable[str], from_address: str, trusted_ids: Iterable[str]) -> Verdict:
    """Whether the Authentication-Results of trusted relays vouch for the From address."""
    trusted = {authserv_id.strip().lower() for authserv_id in trusted_ids if authserv_id.strip()}
    from_domain = domain_of(from_address)
    if not trusted:
        return Verdict(False, "no trusted authserv-id is configured (PLEIN_TRUSTED_AUTHSERV_IDS)")
    seen = False
    for value in headers:
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id not in trusted:
            continue
        seen = True
        for found in parsed.results:
            if found.result != "pass":
                continue
            if found.method == "dmarc" and found.properties.get("header.from", from_domain) == from_domain:
                return Verdict(True, f"dmarc=pass for {from_domain} from {parsed.authserv_id}")
            if found.method == "dkim":
                signer = found.properties.get("header.d") or domain_of(found.properties.get("header.i", ""))
                if aligned(signer, from_domain):
                    return Verdict(True, f"dkim=pass for {signer} from {parsed.authserv_id}")
    if not seen:
        return Verdict(False, f"no Authentication-Results from a trusted relay vouch for {from_domain or '(none)'}")
    return Verdict(False, f"the trusted relay found no DMARC pass nor aligned DKIM pass for {from_domain or '(none)'}")


TxtLookup = Callable[..., bytes | None]
"""dkimpy's `dnsfunc`: `lookup(name, timeout=5)` gives the TXT record of a DNS name, or None."""


def txt_lookup(resolver_address: str = "") -> TxtLookup:
    """A TXT lookup through the system resolver, or through the DNS server at `IPv4:port` (or `IPv4`)."""
    resolver = dns.resolver.Resolver(configure=not resolver_address)
    if resolver_address:
        host, _, port = resolver_address.partition(":")
        resolver.nameservers = [host]
        resolver.port = int(port or 53)

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        qname = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(qname, "TXT", lifetime=timeout, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
            return None
        except dns.exception.Timeout as error:
            raise dkim.DnsTimeoutError(str(error)) from error
        for record in answer.rrset or ():
            return b"".join(record.strings)
        return None

    return lookup


READ_HEADERS = (b"from", b"subject", b"date", b"to", b"cc", b"message-id", b"in-reply-to", b"references")
"""The headers Plein reads from a message: a signature must cover each one the message has."""

MAX_SIGNATURES = 5
"""Signatures tried per message: each costs a DNS lookup, and a sender needs one good one."""


def dkim_verdict(raw: bytes, from_address: str, lookup: TxtLookup) -> Verdict:
    """Whether a DKIM signature of the message verifies and its d= is aligned with the From domain."""
    from_domain = domain_of(from_address)
    try:
        checker = dkim.DKIM(raw, minkey=1024)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except dkim.DKIMException as error:
        return Verdict(False, f"DKIM could not read the message: {error}")
    if not count:
        return Verdict(False, "the message has no DKIM signature")
    problems = []
    for index in range(min(count, MAX_SIGNATURES)):
        try:
            passed = checker.verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException as error:
            problems.append(str(error))
            continue
        signer = (checker.domain or b"").decode("ascii", "replace").lower()
        if passed and aligned(signer, from_domain):
            if not (unsigned := _unsigned_parts(checker)):
                return Verdict(True, f"DKIM signature of {signer} verified")
            problems.append(f"d={signer} does not sign {unsigned}")
            continue
        problems.append(f"d={signer} {'is not aligned with ' + from_domain if passed else 'did not verify'}")
    return Verdict(False, "no aligned DKIM signature verified: " + "; ".join(problems))


def _unsigned_parts(checker: dkim.DKIM) -> str:
    """What of the message the signature just verified leaves unsigned, in words; "" for nothing."""
    if b"l" in checker.signature_fields:
        return "the whole body (it has l=)"
    present = [name.lower() for name, _ in checker.headers]
    signed = list(checker.include_headers)
    unsigned = [
        name.decode().title() for name in READ_HEADERS if present.count(name) > signed.count(name)
    ]
    return ", ".join(f"every {name} header" for name in unsigned)


def sender_verdict(
    raw: bytes, from_address: str, mode: str, *, trusted_ids: Iterable[str] = (), lookup: TxtLookup | None = None
) -> Verdict:
    """Whether the message's From may be believed, in `mode` (one of `MODES`)."""
    if mode == "none":
        return Verdict(True, "From is not verified (inbound authentication is off)")
    if mode == "relay":
        headers = BytesHeaderParser().parsebytes(raw).get_all("Authentication-Results") or []
        return relay_verdict([str(value) for value in headers], from_address, trusted_ids)
    if mode == "dkim":
        return dkim_verdict(raw, from_address, lookup or txt_lookup())
    raise ValueError(f"inbound authentication mode must be one of {', '.join(MODES)}, not {mode!r}")
