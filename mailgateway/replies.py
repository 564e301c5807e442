"""The part of a reply that its author wrote, without the history mail clients append.

A reply by mail carries the thread below it (or around it) and a signature; a comment
should show only the new words. `visible_text` labels every line (text, quote, quote
header, header-block line, rule) and cuts at the first quote header, header block or
phone signature that follows the author's own text, after the line-labelling idea of
Discourse's email_reply_trimmer. The markers are those of Gmail, Outlook (desktop, web,
mobile), Apple Mail, Thunderbird and phone clients, in English, Dutch and the other
languages of the test corpus. Quoted lines are dropped wherever they are, so an inline
reply keeps the author's answers and loses what they answered.

Hand-written rules, because on the corpus of tests/mailgateway/test_corpus.py they
scored 91% where the `mail-parser-reply` library scored 44%.

`thread_subject` reduces a subject to the thread it names, for mail that comes back
without the headers that would say so (a reply from a client that drops them, a forward).
"""

from __future__ import annotations

import re

_WROTE = (
    r"wrote|writes|schreef|geschreven|schrieb|geschrieben|a\s+écrit|escribió|ha\s+scritto|scrisse|"
    r"napisał(?:\(a\))?|skrev|escreveu|написал(?:\(а\)|а)?|пише|kirjoitti|napsal|írta|yazdı|写道"
)
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_HEADER_START = r"^[\s>*-]*(?:On|Op|Am|Le|El|Il|Em|Den|Dnia|Dňa|At|In message|\d|\w+\.?,?\s+\d)"
_STARTS_LIKE_QUOTE_HEADER = re.compile(_HEADER_START, re.IGNORECASE)
_HAS_WROTE = re.compile(_WROTE, re.IGNORECASE)
_QUOTE_HEADER = re.compile(
    "|".join((
        # On Tue, 3 Mar 2015 at 10:00, Ann <ann@example.com> wrote:  /  Op 3 mrt. 2015 schreef Ann:
        rf"{_HEADER_START}.*?\b(?:{_WROTE})(?:[^:\n]{{0,80}}:|\s+-{{2,}})\s*$",
        # On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote
        rf"^[\s>*]*On\s.*{_EMAIL}.*\bwrote\s*$",
        # Ann via Plein wrote:  /  Ann <ann@example.com> schreef:
        rf"^[\s>*]*.{{0,120}}\b(?:{_WROTE}):\s*$",
        # Ann <ann@example.com> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:
        r"^.+\b(?:wrote|schrieb|schreef)\s+(?:on|am|op)\b.+:\s*$",
        # 2015-10-18 0:17 GMT+03:00 Ann <ann@example.com>:  /  26.06.2014, 14:41, "Ann" <ann@example.com>:
        rf"^[\s>*]*.{{0,80}}\d{{4}}.{{0,80}}{_EMAIL}[>)\]\s]*:\s*$",
        # 2013/7/20 Ann <ann@example.com>
        rf"^[\s>*]*\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\s.{{0,80}}<{_EMAIL}>\s*$",
        # 2016-03-03 17:21 GMT+01:00 Ann
        r"^[\s>*]*\d{4}-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d:\d\d [^:]+$",
    )),
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^[\s>*]*-{2,}\s*(?:Original Message|Oorspronkelijk bericht|Origineel bericht|Forwarded message|"
    r"Doorgestuurd bericht|Reply message|Ursprüngliche Nachricht|Weitergeleitete Nachricht|Message d'origine|"
    r"Message transféré|Mensaje original|Messaggio originale|Oprindelig (?:besked|meddelelse)|"
    r"Opprinnelig melding|Ursprungligt meddelande|Alkuperäinen viesti|Исходное сообщение|原始邮件)"
    r"\s*-{2,}"
    r"|^[\s>*]*-{5,}\s*[^-\s][^-]{2,40}\s*-{5,}[\s*]*$"  # the same in any other language
    r"|^[\s>*]*(?:Begin forwarded message|Begin doorgestuurd bericht|Début du message transféré)\s*:"
    r"|reply above this line|boven deze (?:lijn|regel)|oberhalb dieser Zeile"
    r"|^[\s*#]*(?:Previous (?:Replies|discussion)|Vorherige Antworten|Eerdere (?:antwoorden|reacties))[\s*#]*$",
    re.IGNORECASE,
)
# Lines of an Outlook-style header block: "From: Ann", "**Verzonden:** maandag 3 maart".
_FROM_NAMES = r"From|Van|Von|De|Da|Fra|Från|Od|От|Expéditeur|Message du|Lähettäjä|发件人"
_HEADER_NAMES = (
    r"Sent|Date|To|Cc|Subject|Reply-To|Verzonden|Datum|Aan|Onderwerp|Beantwoorden - Aan|Gesendet|An|"
    r"Betreff|Envoyé(?: le)?|À|Objet|Sujet|Copie à|Para|Enviado|Enviada em|Asunto|Assunto|Fecha|Data|"
    r"Inviato|Risposta|Oggetto|Sendt|Dato|Til|Emne|Skickat|Till|Ämne|Wysłano|Do|Temat|Lähetetty|"
    r"Vastaanottaja|Aihe|Отправлено|Кому|Тема|发送时间|收件人|主题"
)
_FROM = re.compile(rf"^[\s>*]*(?:{_FROM_NAMES})\s*\**\s*:", re.IGNORECASE)
_HEADER = re.compile(rf"^[\s>*]*(?:{_HEADER_NAMES})\s*\**\s*:", re.IGNORECASE)
# A whole header block that an HTML conversion put on one line.
_ONE_LINE_HEADERS = re.compile(
    r"^[\s>*]*(?:From|Van|Von|De)\s*\**\s*:.*\b(?:Sent|Date|To|Subject|Verzonden|Aan|Onderwerp|Gesendet|Objet)"
    r"\s*\**\s*:",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|__)\s?$")  # RFC 3676 section 4.3, and its mangled forms
_MOBILE_SIGNATURE = re.compile(
    r"^\s*[(<]*(?:Sent (?:from|via|with|by) (?:my )?[\w\- ]{1,30}?|Get Outlook for [\w\s]{1,20}|"
    r"Verzonden (?:vanaf|met|van) (?:mijn )?[\w\- ]{1,30}|Verstuurd (?:vanaf|met) (?:mijn )?[\w\- ]{1,30}|"
    r"Envoyé (?:de|depuis|à partir de) .{1,40}|Von meinem .{1,40} gesendet|Gesendet von .{1,40}|"
    r"Enviado (?:desde|do|de) .{1,40}|Inviato da .{1,40}|Sendt fra .{1,40}|Skickat från .{1,40}|"
    r"(?:\w+ )?(?:from|via) mobile(?: device)?|從我的 iPhone 傳送)"
    r"\s*(?:<[^>]*>|\([^)]*\))?[)>.]*\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*(?:[-_=*~+#—ᐧ]\s*){3,}$|^\s*ᐧ\s*$")
_QUOTED = re.compile(r"^\s*>")

_MARKERS = (_QUOTE_HEADER, _SEPARATOR, _ONE_LINE_HEADERS, _MOBILE_SIGNATURE)
_LONGEST_MARKER = 400  # longer lines are prose; also keeps the patterns away from huge lines

_TEXT, _EMPTY, _QUOTE, _MARKER, _FROM_LINE, _HEADER_LINE, _RULE_LINE = "t", "e", "q", "m", "f", "h", "r"
# Where the history starts: a quote header or phone signature, a header block (two or more
# lines with a From among them, one wrapped line allowed between), or a rule just above either.
_HISTORY = re.compile(r"r[re]*(?=[mf])|m|[fh](?:[et]?[fh])+")
# What may precede the author's first line: blanks, quotes, markers, and a forwarded mail's
# header block, whose wrapped lines are not the author's text either.
_PREAMBLE = re.compile(r"(?:[emrq]|[fh](?:t(?=[fh]))?)*")


def visible_text(text: str) -> str:
    lines = _unwrap_quote_headers(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    labels = "".join(_label(line) for line in lines)
    first_text = labels.find(_TEXT, _PREAMBLE.match(labels).end())
    end = _history_start(labels, first_text) if first_text >= 0 else len(lines)
    kept = [
        line for i, (line, label) in enumerate(zip(lines[:end], labels))
        if label != _QUOTE and (i >= first_text or label == _EMPTY)
    ]
    kept = _without_signature(kept)
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept)).strip("\n")
    if result.strip() or not text.strip():
        return result
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())  # all quotes: keep it all


def _history_start(labels: str, first_text: int) -> int:
    for found in _HISTORY.finditer(labels, first_text):
        if found.group()[0] in (_MARKER, _RULE_LINE) or _FROM_LINE in found.group():
            return found.start()
    return len(labels)


def _unwrap_quote_headers(lines: list[str]) -> list[str]:
    """Join a quote header that a client wrapped over two or three lines into one line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        for span in (2, 3):
            part = lines[i:i + span]
            if (
                len(part) == span
                and all(0 < len(line.strip()) < _LONGEST_MARKER for line in part)
                and not any(_QUOTE_HEADER.match(line) for line in part[:-1])
                and not (_QUOTE_HEADER.match(part[-1]) and _STARTS_LIKE_QUOTE_HEADER.match(part[-1]))
                and (_STARTS_LIKE_QUOTE_HEADER.match(part[0]) or _HAS_WROTE.search(part[0]))
                and _QUOTE_HEADER.match(" ".join(line.strip() for line in part))
            ):
                out.append(" ".join(line.strip() for line in part))
                i += span
                break
        else:
            out.append(lines[i])
            i += 1
    return out


def _label(line: str) -> str:
    if not line.strip():
        return _EMPTY
    if len(line) < _LONGEST_MARKER and any(pattern.search(line) for pattern in _MARKERS):
        return _MARKER
    if _FROM.match(line):
        return _FROM_LINE
    if _HEADER.match(line):
        return _HEADER_LINE
    if _QUOTED.match(line):
        return _QUOTE
    if _RULE.match(line):
        return _RULE_LINE
    return _TEXT


def _without_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line) and any(earlier.strip() for earlier in lines[:i]):
            lines = lines[:i]
            break
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines = lines[:-1]
    return lines


# Reply and forward prefixes of English, Dutch, German and Scandinavian clients, with
# Outlook's counted `RE[2]:` form; and `[list]` tags such as the `[Engineering]` Plein adds.
_REPLY_PREFIX = r"(?:re|aw|antw|antwoord|sv|vs)"
_FORWARD_PREFIX = r"(?:fwd?|wg|doorst|tr|rv)"
_SUBJECT_PREFIX = re.compile(
    rf"^\s*(?:\[[^\]]*\]|(?P<kind>{_REPLY_PREFIX}|{_FORWARD_PREFIX})\s*(?:\[\d+\]|\(\d+\))?\s*:)\s*",
    re.IGNORECASE,
)


def thread_subject(subject: str) -> tuple[str, bool]:
    """The subject without reply/forward prefixes and tags, case-folded; and whether it had a prefix.

    >>> thread_subject("AW: Antw: [Engineering] RE[2]: Planning  Q3")
    ('planning q3', True)
    >>> thread_subject("[Engineering] Planning")
    ('planning', False)
    """
    rest, prefixed = subject, False
    while match := _SUBJECT_PREFIX.match(rest):
        prefixed = prefixed or match.group("kind") is not None
        rest = rest[match.end():]
    return " ".join(rest.split()).casefold(), prefixed
