"""The part of a reply that its author wrote, without the history mail clients append.

A reply by mail carries the thread below it (or around it) and a signature; a comment
should show only the new words. `visible_text` labels every line (text, quote, quote
header, separator, header-block line, rule) and cuts at the first quote header, header
block or phone signature that follows the author's own text, after the line-labelling
idea of Discourse's email_reply_trimmer. The markers are those of Gmail, Outlook (desktop,
web, mobile), Apple Mail, Thunderbird and phone clients, in English, Dutch and the other
languages of the test corpus. Quotes the author answers (an inline reply, a quote with the
answer below it) stay, because the answers mean little without them; the quoted history
below the last answer goes, and so does a quote header's quote above a bottom-posted
reply. Signatures go too: after "-- ", below a long rule, a last paragraph of contact
details, and the name above a phone's "Sent from my ..." line.

Hand-written rules, because on the corpus of tests/mailgateway/test_corpus.py they
score 97% where the maintained libraries scored less: `mail-parser-reply` 44%, `quotequail` 15%.

A reply is outside input, so the rules take time in proportion to it: no pattern can try a
run of the same characters in more than one way (runs are possessive, an address is tried
only where a run starts), and at most `_MAX_JOINS` spans of lines are joined to look for a
wrapped quote header. `mailgateway.timebox` runs trimming under the parse time limit too.

`thread_subject` reduces a subject to the thread it names, for mail that comes back
without the headers that would say so (a reply from a client that drops them, a forward).
"""

from __future__ import annotations

import re

_WROTE = (
    r"wrote|writes|schreef|geschreven|schrieb|geschrieben|a\s+écrit|escribió|ha\s+scritto|scrisse|"
    r"napisał(?:\(a\))?|skrev|escreveu|написал(?:\(а\)|а)?|пише|kirjoitti|napsal|írta|yazdı|写道"
)
# An address, tried only where a run of its characters starts and never taken apart again:
# tried at every character of a long run, it would cost the square of the run's length.
_EMAIL = r"(?<![\w.+-])(?>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
_HEADER_START = r"^[\s>*-]*+(?:On|Op|Am|Le|El|Il|Em|Den|Dnia|Dňa|At|In message|\d|\w+\.?,?\s+\d)"
_STARTS_LIKE_QUOTE_HEADER = re.compile(_HEADER_START, re.IGNORECASE)
_HAS_WROTE = re.compile(_WROTE, re.IGNORECASE)
_WROTE_STEMS = (
    "wrote", "writes", "schr", "écrit", "escrib", "scritto", "scrisse", "napisa", "skrev", "escrev", "напис", "пише",
    "kirjoitti", "napsal", "írta", "yazd", "写道",
)
"""A piece of each of `_WROTE`'s verbs, case-folded: a line with none of them has none of the verbs, and is not
searched for them (the search of every line was most of the time of trimming a long reply)."""
_ENDING = re.compile(r"([:>-]|\bwrote)\s*+$", re.IGNORECASE)
_ON_DATE = re.compile(r"^\s*+(?:On|Op|Am|Le|El|Il|Em|Den)\s.*\d", re.IGNORECASE)
_QUOTE_HEADER = re.compile(
    "|".join((
        # On Tue, 3 Mar 2015 at 10:00, Ann <ann@example.com> wrote:  /  Op 3 mrt. 2015 schreef Ann:
        rf"{_HEADER_START}.*?\b(?:{_WROTE})(?:[^:\n]{{0,80}}:|\s+-{{2,}})\s*+$",
        # On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote
        rf"^[\s>*]*+On\s(?=.*\bwrote\s*+$).*?{_EMAIL}",
        # Ann via Plein wrote:  /  Ann <ann@example.com> schreef:
        rf"^[\s>*]*+.{{0,120}}\b(?:{_WROTE}):\s*+$",
        # Ann <ann@example.com> schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:
        r"^(?>.+?\b(?:wrote|schrieb|schreef)\s++(?:on|am|op)\b).+:\s*+$",
        # 2015-10-18 0:17 GMT+03:00 Ann <ann@example.com>:  /  26.06.2014, 14:41, "Ann" <ann@example.com>:
        rf"^[\s>*]*+.{{0,80}}\d{{4}}.{{0,80}}{_EMAIL}[>)\]\s]*+:\s*+$",
        # 2013/7/20 Ann <ann@example.com>
        rf"^[\s>*]*+\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\s.{{0,80}}<{_EMAIL}>\s*+$",
        # 2016-03-03 17:21 GMT+01:00 Ann
        r"^[\s>*]*+\d{4}-\d\d-\d\d \d\d?:\d\d GMT[+-]\d\d:\d\d [^:]+$",
    )),
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^[\s>*]*+-{2,}\s*+(?:Original Message|Oorspronkelijk bericht|Origineel bericht|Forwarded message|"
    r"Doorgestuurd bericht|Reply message|Ursprüngliche Nachricht|Weitergeleitete Nachricht|Message d'origine|"
    r"Message transféré|Mensaje original|Messaggio originale|Oprindelig (?:besked|meddelelse)|"
    r"Opprinnelig melding|Ursprungligt meddelande|Alkuperäinen viesti|Исходное сообщение|原始邮件)"
    r"\s*+-{2,}"
    r"|^[\s>*]*+-{5,}+\s*+[^-\s][^-]{2,40}\s*-{5,}+[\s*]*+$"  # the same in any other language
    r"|^[\s>*]*+(?:Begin forwarded message|Begin doorgestuurd bericht|Début du message transféré)\s*+:"
    r"|reply above this line|boven deze (?:lijn|regel)|oberhalb dieser Zeile"
    r"|^[\s*#]*+(?:Previous (?:Replies|discussion)|Vorherige Antworten|Eerdere (?:antwoorden|reacties))[\s*#]*+$",
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
_FROM = re.compile(rf"^[\s>*]*+(?:{_FROM_NAMES})\s*+\**+\s*+:", re.IGNORECASE)
_HEADER = re.compile(rf"^[\s>*]*+(?:{_HEADER_NAMES})\s*+\**+\s*+:", re.IGNORECASE)
# A whole header block that an HTML conversion put on one line.
_ONE_LINE_HEADERS = re.compile(
    r"^[\s>*]*+(?:From|Van|Von|De)\s*+\**+\s*+:.*\b(?:Sent|Date|To|Subject|Verzonden|Aan|Onderwerp|Gesendet|Objet)"
    r"\s*+\**+\s*+:",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|__)\s?$")  # RFC 3676 section 4.3, and its mangled forms
_MOBILE_SIGNATURE = re.compile(
    r"^\s*+[(<]*+(?:Sent (?:from|via|with|by) (?:my )?[\w\- ]{1,30}?|Get Outlook for [\w\s]{1,20}|"
    r"Verzonden (?:vanaf|met|van) (?:mijn )?[\w\- ]{1,30}|Verstuurd (?:vanaf|met) (?:mijn )?[\w\- ]{1,30}|"
    r"Envoyé (?:de|depuis|à partir de) .{1,40}|Von meinem .{1,40} gesendet|Gesendet von .{1,40}|"
    r"Enviado (?:desde|do|de) .{1,40}|Inviato da .{1,40}|Sendt fra .{1,40}|Skickat från .{1,40}|"
    r"(?:\w+ )?(?:from|via) mobile(?: device)?|從我的 iPhone 傳送)"
    r"\s*+(?:<[^>]*>|\([^)]*\))?[)>.]*+\s*+$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*+(?:[-_=*~+#—ᐧ]\s*+){3,}+$|^\s*+ᐧ\s*+$")
_LONG_RULE = re.compile(r"^\s*+(?:-{10,}|_{10,}|={10,}|\*{10,})\s*+$")  # the rule above a signature block
_CONTACT = {
    "mail": re.compile(_EMAIL),
    "web": re.compile(r"\b(?:https?://|www\.)\S", re.IGNORECASE),
    "phone": re.compile(r"(?:^|\s)\+?\(?\d[\d() .-]{6,}\d\b"),
}
_NAME = re.compile(r"^\s*+[^\W\d_]++(?:[\s'.-]++[^\W\d_]++){0,4}+\s*+$")  # "Ann", "Jan-Willem van Dijk"
_QUOTED = re.compile(r"^\s*+(?:>|[A-Z]{1,3}>(?=\s|$))")  # "> text", and Supercite's "AB> text"

_MARKERS = (_SEPARATOR, _ONE_LINE_HEADERS, _MOBILE_SIGNATURE)
_LONGEST_MARKER = 400  # longer lines are prose; also keeps the patterns away from huge lines
_MAX_JOINS = 1000

_TEXT, _EMPTY, _QUOTE, _WROTE_LINE, _MARKER, _FROM_LINE, _HEADER_LINE, _RULE_LINE = "t", "e", "q", "w", "m", "f", "h", "r"
_SIGNATURE_LINE = "s"
# Where the history starts: a quote header, separator or phone signature, a header block (two or
# more lines with a From among them, one wrapped line allowed between), or a rule just above either.
# Rules that lead to none of these are taken whole (`idle`) and passed over, so that a long run
# of them is read once rather than once for each of its lines.
_HISTORY = re.compile(r"r[re]*+(?=[wmf])|(?P<idle>r[re]*+)|[wm]|[fh](?:[et]?[fh])+")
# A quote header whose quote the author answers below it: an inline reply, not history.
_INLINE_QUOTE = re.compile(r"we*q[eq]*t")
# What may precede the author's first line: blanks, quotes, markers, and a forwarded mail's
# header block, whose wrapped lines are not the author's text either.
_PREAMBLE = re.compile(r"(?:[ewmrq]|[fh](?:t(?=[fh]))?)*")


def visible_text(text: str) -> str:
    lines, headers = _unwrap_quote_headers(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    labels = "".join(_WROTE_LINE if header else _label(line) for line, header in zip(lines, headers))
    quoting = _quoting(lines, labels)
    first_text = quoting.find(_TEXT, _PREAMBLE.match(labels).end())
    end = _history_start(labels, quoting, first_text) if first_text >= 0 else len(lines)
    end = _signature_start(lines, quoting, first_text, end) if first_text >= 0 else end
    last_text = quoting.rfind(_TEXT, 0, end)
    # Quotes the author answers below are kept for context; a quote below the last answer is
    # history, and so is one under a quote header that only a bottom-posted reply follows.
    answered = _QUOTE in quoting[first_text:last_text] or not re.search("[wm]", labels[:first_text])
    quotes_from = 0 if answered else first_text

    def keep(i: int, label: str, kind: str) -> bool:
        if kind == _QUOTE:
            return quotes_from <= i < last_text
        return label == _EMPTY or (i >= first_text and label != _WROTE_LINE)

    kept = [line for i, (line, label, kind) in enumerate(zip(lines[:end], labels, quoting)) if keep(i, label, kind)]
    while kept and (not kept[-1].strip() or _RULE.match(kept[-1])):
        kept.pop()
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in kept)).strip("\n")
    if result.strip() or not text.strip():
        return result
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())  # all quotes: keep it all


def _quoting(lines: list[str], labels: str) -> str:
    """`labels` with every line of a quote as a quote, and signature delimiters marked.

    A quote includes its header lines ("> On ... wrote:") and a line between two quoted
    lines that a client wrapped without repeating the `>`.
    """
    quoted = [bool(_QUOTED.match(line)) for line in lines] + [False]
    return "".join(
        _QUOTE if quoted[i] or (label == _TEXT and i > 0 and quoted[i - 1] and quoted[i + 1] and lines[i - 1].strip(" >"))
        else _SIGNATURE_LINE if _SIGNATURE_DELIMITER.match(line)
        else label
        for i, (line, label) in enumerate(zip(lines, labels))
    )


def _history_start(labels: str, quoting: str, first_text: int) -> int:
    for found in _HISTORY.finditer(labels, first_text):
        if found.lastgroup == "idle":
            continue
        if found.group() == _WROTE_LINE and _INLINE_QUOTE.match(quoting, found.start()):
            continue
        if found.group()[0] in (_WROTE_LINE, _MARKER, _RULE_LINE) or _FROM_LINE in found.group():
            return found.start()
    return len(labels)


def _unwrap_quote_headers(lines: list[str]) -> tuple[list[str], list[bool]]:
    """Join a quote header that a client wrapped over two to six lines into one line; the
    lines, and which of them are quote headers.

    Over more than three lines, or with blank lines inside (Gmail's "On ... Ann" / "<" /
    "mailto:ann@example.com" / "> wrote:" after an HTML conversion), it must start "On <date>"
    and end with the verb.
    """
    wrapped = _WrappedHeaders(lines)
    out: list[str] = []
    headers: list[bool] = []
    i = 0
    while i < len(lines):
        joined = wrapped.at(i)
        if joined is None:
            out.append(lines[i])
            headers.append(wrapped.header[i])
            i += 1
        else:
            out.append(joined[0])
            headers.append(True)
            i += joined[1]
    return out, headers


class _WrappedHeaders:
    """Finds quote headers wrapped over several lines, asking each line's questions once.

    In a long message most lines may start like a quote header (a digit will do), so the
    cheap tests come first, and at most `_MAX_JOINS` spans of lines are joined and matched
    in one message: a real one needs a few, and a crafted one gets no more.
    """

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.short = [0 < len(line.strip()) and len(line) < _LONGEST_MARKER for line in lines]
        short_lines = [line if ok else "" for ok, line in zip(self.short, lines)]
        self.wrote = [_has_wrote(line) for line in short_lines]
        # How the line ends, where a `_QUOTE_HEADER` can end: ":", "-", ">", "wrote", or "".
        self.ending = [(found[1].lower() if (found := _ENDING.search(line)) else "") for line in short_lines]
        self.address = ["@" in line for line in short_lines]
        self.gmt = ["gmt" in line.lower() for line in short_lines]
        # Every kind of `_QUOTE_HEADER` holds a verb, an address or GMT: most lines are not tried at all.
        self.header = [
            bool((wrote or address or gmt) and _QUOTE_HEADER.match(line))
            for line, wrote, address, gmt in zip(short_lines, self.wrote, self.address, self.gmt)
        ]
        self.joins_left = _MAX_JOINS

    def at(self, i: int) -> tuple[str, int] | None:
        """The quote header wrapped over the lines from `i` on, joined, and how many lines it took."""
        lines = self.lines
        if not self.short[i] or self.header[i] or not (self.wrote[i] or _STARTS_LIKE_QUOTE_HEADER.match(lines[i])):
            return None
        gmt, address, wrote, all_short = self.gmt[i], self.address[i], self.wrote[i], True
        for last in range(i + 1, min(i + 6, len(lines))):
            if last - 1 > i and self.header[last - 1]:
                break  # this span and every longer one holds a quote header of its own
            wrote_before, ending = wrote, self.ending[last]
            gmt, address, wrote = gmt or self.gmt[last], address or self.address[last], wrote or self.wrote[last]
            all_short = all_short and self.short[last]
            if not self.short[last] or not self.joins_left:
                continue
            # What each kind of `_QUOTE_HEADER` needs of the lines joined: GMT; or an address
            # and an ending; or a verb and an ending in ":" or "--".
            if not (gmt or (ending and address) or (ending in (":", "-") and wrote)):
                continue
            if self.header[last] and _STARTS_LIKE_QUOTE_HEADER.match(lines[last]):
                continue
            loose = last - i > 2 or not all_short
            if loose and not (_ON_DATE.match(lines[i]) and self.wrote[last] and not wrote_before):
                continue
            self.joins_left -= 1
            joined = " ".join(line.strip() for line in lines[i:last + 1] if line.strip())
            if len(joined) >= _LONGEST_MARKER:  # too long to be labelled a quote header anyway
                return None
            if _QUOTE_HEADER.match(joined):
                return joined, last - i + 1
        return None


def _has_wrote(line: str) -> bool:
    if not line:
        return False
    folded = line.casefold()
    return any(stem in folded for stem in _WROTE_STEMS) and bool(_HAS_WROTE.search(line))


def _label(line: str) -> str:
    """The label of a line that is not a quote header."""
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


def _signature_start(lines: list[str], quoting: str, first_text: int, end: int) -> int:
    """Where the author's signature starts, if it does before `end`.

    A signature follows an RFC 3676 "-- " line; or a long rule with only a short block below
    it; or it is a short last paragraph with two kinds of contact details (mail, web, phone);
    or it is the author's name just above a phone's "Sent from my ..." line.
    """
    delimiter = quoting.find(_SIGNATURE_LINE, first_text + 1, end)
    end = delimiter if delimiter >= 0 else end
    rule = max((i for i in range(first_text + 1, end) if _LONG_RULE.match(lines[i])), default=-1)
    if rule >= 0 and _is_signature_block(lines[rule + 1:end]):
        return rule
    last = max((i for i in range(first_text, end) if lines[i].strip()), default=first_text)
    paragraph = max((i for i in range(first_text + 1, last) if not lines[i].strip()), default=-1)
    if paragraph >= 0 and _is_signature_block(lines[paragraph:end], width=40, lines=6) and len(
        {kind for line in lines[paragraph:end] for kind, pattern in _CONTACT.items() if pattern.search(line)}
    ) >= 2:
        return paragraph
    if (
        end < len(lines) and _MOBILE_SIGNATURE.search(lines[end]) and end - 2 > first_text
        and _NAME.match(lines[end - 1]) and lines[end - 1].strip()[0].isupper() and not lines[end - 2].strip()
    ):
        return end - 1
    return end


def _is_signature_block(block: list[str], width: int = 60, lines: int = 12) -> bool:
    filled = [line for line in block if line.strip()]
    return len(filled) <= lines and all(len(line.strip()) <= width and not _QUOTED.match(line) for line in filled)


# Reply and forward prefixes of English, Dutch, German and Scandinavian clients, with
# Outlook's counted `RE[2]:` form; and `[list]` tags such as the `[Engineering]` Plein adds.
_REPLY_PREFIX = r"(?:re|aw|antw|antwoord|sv|vs)"
_FORWARD_PREFIX = r"(?:fwd?|wg|doorst|tr|rv)"
_SUBJECT_PREFIX = re.compile(
    rf"\s*+(?:\[[^\]]*\]|(?P<kind>{_REPLY_PREFIX}|{_FORWARD_PREFIX})\s*+(?:(?:\[\d+\]|\(\d+\))\s*+)?:)\s*+",
    re.IGNORECASE,
)


def thread_subject(subject: str) -> tuple[str, bool]:
    """The subject without reply/forward prefixes and tags, case-folded; and whether it had a prefix.

    >>> thread_subject("AW: Antw: [Engineering] RE[2]: Planning  Q3")
    ('planning q3', True)
    >>> thread_subject("[Engineering] Planning")
    ('planning', False)
    """
    start, prefixed = 0, False
    while match := _SUBJECT_PREFIX.match(subject, start):
        prefixed = prefixed or match.group("kind") is not None
        start = match.end()
    return " ".join(subject[start:].split()).casefold(), prefixed
