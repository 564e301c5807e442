"""A demo company, so the first page a newcomer opens is alive: what `plein run --demo` seeds.

The field engineering of a fibre company around Utrecht: six people with full profiles (one an
admin), a public Engineering group, a private Board, a moderated News group and a Helpdesk
anyone may write to without joining. Most of them write Dutch, Chloé and Tom English. `PEOPLE`
says whom to sign in as and what each of them sees.

Everything is made through the services Plein itself uses. What came in by mail is real mail:
raw messages stored and processed by `hub.services.inbound` as if SMTP had taken them, so the
reply Bram mailed is trimmed and keeps its original, his news waits in the News queue, and a
supplier's mail is refused on record for the admin's quarantine page.

The threads of the past days are dated back, and the notification mail of those posts and
comments is not queued: it would have gone out back then, not at the first start of the demo.
What arrives by mail arrives now, with the mail Plein sends for it (notifications, receipts,
moderation requests) in the outbox, and members on daily or weekly delivery have a digest
waiting (`plein digest preview`).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from zoneinfo import ZoneInfo

from docx import Document
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import jobs
from hub.context import context_of
from hub.models import Comment, Group, InboundMessage, Post, User, ViewEvent, utcnow
from hub.services import (
    accounts,
    groups,
    inbound,
    message_ids,
    moderation,
    notifications,
    participation,
    posts,
    preferences,
    profiles,
)
from hub.services.attachments import attach
from hub.services.organisation import department_for_path


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str
    """What this person sees and does in the demo: why sign in as them."""
    department: str
    job_title: str
    expertise: str
    bio: str
    language: str = "nl"


PEOPLE = [
    DemoPerson(
        "anna@plein.localhost", "Anna de Vries",
        "admin: the inbound quarantine, moderates every group; member of Engineering, Board, News, Helpdesk",
        "Field Engineering", "Teamleider veldtechniek", "glasvezel, ONT, veldplanning, VCA",
        "Ik leid het team van twaalf monteurs in de regio Utrecht. Vragen over planning, storingen bij "
        "klanten of de veldhandleiding? Stuur ze naar Engineering, dan leest iedereen mee.",
    ),
    DemoPerson(
        "bram@plein.localhost", "Bram Jansen",
        "member of Engineering and News, not Board; answers by mail, his news waits for a moderator",
        "Field Engineering", "Monteur glasvezel", "lassen, OTDR, wijkkasten, glasvezel",
        "Twintig jaar in de kabel, sinds 2016 op glas. Ik las en meet vooral in wijkkasten en "
        "ben meestal onderweg: ik antwoord vanaf mijn telefoon, per mail.",
    ),
    DemoPerson(
        "chloe@plein.localhost", "Chloé Martin",
        "member of Engineering (daily digest), News and Helpdesk",
        "Network Operations", "Network engineer", "GPON, OLT, network monitoring, outage analysis",
        "I look after the OLTs and the core network from the NOC in Utrecht. I write in English, "
        "happy to read Dutch. Ping me for anything between the POP and the customer's ONT.",
        language="en",
    ),
    DemoPerson(
        "daan@plein.localhost", "Daan Bakker",
        "member of Board, and of Engineering by weekly digest",
        "Directie", "Algemeen directeur", "strategie, financiën, aanleg nieuwe wijken",
        "Directeur sinds 2019. Ik lees Engineering wekelijks mee om te weten wat er in het veld speelt.",
    ),
    DemoPerson(
        "sanne@plein.localhost", "Sanne Visser",
        "moderates News: a mail waits in its queue",
        "Communicatie", "Communicatieadviseur", "interne communicatie, klantbrieven, nieuwsbrief",
        "Ik schrijf de nieuwsbrief en de brieven aan bewoners voor we een wijk aansluiten. "
        "Nieuws voor iedereen? Mail het naar News, ik kijk het na.",
    ),
    DemoPerson(
        "tom@plein.localhost", "Tom Hughes",
        "new; member of Engineering and News, asked the Helpdesk by mail without joining it",
        "Planning & Work Preparation", "Planning engineer", "KLIC, excavation permits, route planning",
        "New here: I joined from a fibre roll-out in Belfast. I plan the civil works and request the "
        "KLIC reports and permits before a crew starts digging.",
        language="en",
    ),
]

ORGANISATION = {
    "daan": ("Plein Glasvezel/Directie", None, "Utrecht"),
    "anna": ("Plein Glasvezel/Techniek/Field Engineering", "daan", "Utrecht"),
    "bram": ("Plein Glasvezel/Techniek/Field Engineering", "anna", "Amersfoort"),
    "chloe": ("Plein Glasvezel/Techniek/Network Operations", "daan", "Utrecht"),
    "tom": ("Plein Glasvezel/Techniek/Planning & Work Preparation", "daan", "Zwolle"),
    "sanne": ("Plein Glasvezel/Communicatie", "daan", "Utrecht"),
}
"""Where each demo person stands: department path, manager and location (the directory and `/org`)."""


def seed_demo(session: Session) -> bool:
    """Create the demo company; False when it is already there."""
    if session.scalar(select(Group.id).where(Group.slug == "engineering")):
        return False
    _Seeder(session).seed()
    return True


Moment = tuple[int, str]
"""Days ago and the local time of day: `(3, "08:04")`."""


class _Seeder:
    """The demo, seeded in the caller's transaction and dated back from one moment."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.now = utcnow()

    def seed(self) -> None:
        self._people()
        self._groups()
        self._history()
        self._mail_now()
        self._statistics()

    def _statistics(self) -> None:
        """Everyone who wrote in a thread had it open then: those visits, and the history, rolled up for /stats."""
        self.session.flush()
        for post in self.session.scalars(select(Post)):
            for item in (post, *post.comments):
                if item.author_id is not None:
                    self.session.add(ViewEvent(user_id=item.author_id, post_id=post.id, created_at=item.created_at))
        oldest = self.session.scalar(select(func.min(Post.created_at)))
        participation.roll_up_due(self.session, (self.now.date() - oldest.date()).days if oldest else 0)

    def _people(self) -> None:
        made = {person.email.partition("@")[0]: self._person(person) for person in PEOPLE}
        self.anna, self.bram, self.chloe, self.daan, self.sanne, self.tom = (
            made[name] for name in ("anna", "bram", "chloe", "daan", "sanne", "tom")
        )
        for name, (path, manager, location) in ORGANISATION.items():
            department = department_for_path(self.session, path)
            made[name].department_id, made[name].department, made[name].location = department.id, path, location
            made[name].manager_id = made[manager].id if manager else None
        accounts.set_admin(self.session, self.anna)
        preferences.update_settings(self.session, self.daan, replace(
            preferences.settings_of(self.daan), digest_weekday=4, digest_hour=16, notify_replies=False,
        ))

    def _groups(self) -> None:
        anna, bram, chloe, daan, sanne, tom = self.anna, self.bram, self.chloe, self.daan, self.sanne, self.tom
        self.engineering = self._group(
            "engineering", "Engineering", "Field and network engineering: questions, fixes, manuals.",
            [(anna, "each"), (bram, "each"), (chloe, "daily"), (daan, "weekly"), (tom, "each")],
        )
        self.board = self._group(
            "board", "Board", "The management team. Private.", [(anna, "each"), (daan, "daily")], private=True,
        )
        self.news = self._group(
            "news", "News", "Company news for everyone. Anyone may write; a moderator reads each message first.",
            [(sanne, "each"), (anna, "each"), (bram, "weekly"), (chloe, "daily"), (daan, "weekly"), (tom, "each")],
        )
        moderation.set_policy(self.session, self.news, "moderated")
        moderation.set_moderator(self.session, self.news, sanne)
        self.helpdesk = self._group(
            "helpdesk", "Helpdesk",
            "Laptops, phones and the work-order app. Anyone may ask here, by mail or on the web, without joining.",
            [(chloe, "each"), (anna, "each")],
        )
        moderation.set_policy(self.session, self.helpdesk, "anyone")

    def _history(self) -> None:
        """The threads of the past days, oldest first, so ids and dates agree as digests expect."""
        anna, bram, chloe, daan = self.anna, self.bram, self.chloe, self.daan
        post = self._post(
            self.engineering, anna, at=(9, "08:12"),
            title="Glasvezelmodem blijft op LOS staan",
            text="Bij een klant in Utrecht brandt het LOS-lampje rood na de installatie. "
                 "Kabel is nieuw. Iemand een idee? De veldhandleiding zit erbij.",
            attachments=[(
                "glasvezel-veldhandleiding.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _manual(),
            )],
        )
        first = self._comment(
            post, bram, (9, "08:47"),
            "Meestal is de connector vuil. Reinigen met een klikreiniger en opnieuw meten; onder -25 dBm is te zwak.",
        )
        self._comment(post, anna, (9, "11:05"), "Dat was het: na reinigen -14 dBm. Dank je!", parent=first)
        self._comment(post, chloe, (9, "16:30"), "Worth adding to the checklist in the manual, I think.")

        self._post(
            self.engineering, chloe, at=(6, "10:20"),
            title="New spare-parts cabinet in Amersfoort",
            text="The cabinet next to the loading dock now has ONTs, patch cables and cleaning kits. "
                 "Sign what you take.",
            comments=[(bram, (6, "15:02"), "Top, ik heb er meteen twee ONT's uit gehaald voor Houten. Staat op de lijst.")],
        )
        self._post(
            self.board, daan, at=(5, "19:40"),
            title="Concept Q3-cijfers",
            text="Concept voor het bestuur: 1.240 nieuwe aansluitingen, churn 1,8%. Het investeringsplan voor "
                 "2025 zit erbij. Graag binnen deze groep houden tot de aandeelhoudersvergadering.",
            attachments=[("q3-cijfers-concept.pdf", "application/pdf", _pdf("Concept Q3-cijfers (vertrouwelijk)", [
                "Nieuwe aansluitingen Q3: 1.240 (doel 1.100).",
                "Churn: 1,8% (Q2: 2,1%).",
                "Investeringsplan 2025: 3 nieuwe wijken, 4.800 huishoudens, 6,2 mln euro.",
            ]))],
            comments=[(anna, (4, "07:55"), "Mooi resultaat. Voor de nieuwe wijken hebben we vanaf maart twee extra monteurs nodig.")],
        )

        self.otdr = self._post(
            self.engineering, bram, at=(4, "13:18"),
            title="OTDR-meting Hoograven: demping te hoog op vezel 7",
            text="Vezel 7 van wijkkast HGV-12 naar de Hoogravenseweg haalt de norm niet: 2,9 dB over 1,6 km. "
                 "Het meetrapport zit erbij. Zit het in de las of in de kabel?",
            attachments=[("otdr-meetrapport-hgv12.pdf", "application/pdf", _pdf("OTDR-meetrapport wijkkast HGV-12", [
                "Vezel 7, 1310 nm, richting Hoogravenseweg.",
                "Totale demping: 2,9 dB over 1,6 km (norm: max 2,0 dB).",
                "Las 4 op 1,2 km: lasverlies 0,8 dB (norm: max 0,3 dB).",
                "Connector wijkkast: 0,25 dB. Reflectie einde vezel: -52 dB.",
                "Gemeten door: Bram Jansen.",
            ]))],
        )
        self.otdr_answer = self._comment(
            self.otdr, chloe, (3, "08:04"),
            "The trace shows a 0.8 dB step at 1.2 km: that is splice 4 in the street cabinet, not the cable. "
            "Could you re-splice it and measure again? Anything under 0.3 dB is fine.",
        )
        self._comment(self.otdr, anna, (3, "08:31"), "Bram, neem je de lasapparatuur uit Amersfoort mee? Die is net gekalibreerd.")

        self._post(
            self.news, self.sanne, at=(3, "09:00"),
            title="Welkom Tom Hughes",
            text="Vanaf maandag werkt Tom Hughes bij ons als planning engineer. Hij komt van een glasvezelproject in "
                 "Belfast en regelt voortaan de KLIC-meldingen en graafvergunningen. Tom spreekt (nog) Engels: "
                 "welcome, Tom!",
            comments=[(anna, (3, "09:24"), "Welkom Tom! Je eerste KLIC-meldingen voor Houten staan al klaar.")],
        )
        self._post(
            self.engineering, chloe, at=(2, "07:36"),
            title="Outage OLT Utrecht-Oost last night: 37 customers offline",
            text="Mains power in the Utrecht-Oost POP failed at 02:14 and the backup batteries ran flat at 04:02. "
                 "37 customers were offline until 06:41. The OLT's alarm log is attached.",
            attachments=[("olt-utrecht-oost-alarms.txt", "text/plain; charset=utf-8", _alarm_log(self._at(2, "00:00")))],
            comments=[
                (daan, (2, "08:50"), "Hoe oud zijn die accu's? En krijgen de klanten bericht?"),
                (anna, (2, "10:12"), "Zeven jaar, te oud. We laten de accu's in alle POP's testen; planning volgt deze week."),
            ],
        )

    def _mail_now(self) -> None:
        """What comes in by mail as the demo starts, as real mail."""
        bram = self.bram
        self._reply_by_mail(self.otdr, self.otdr_answer)
        self._mail(
            bram, notifications.group_address(self.engineering), "Nieuwe ONT's in Houten: zo horen de lampjes te staan",
            "Ter info voor iedereen die in Houten installeert: bij het nieuwe type ONT branden POWER, PON en LAN "
            "groen en is LOS uit als alles goed is. Foto hieronder.\n\nBram",
            html="<p>Ter info voor iedereen die in Houten installeert: bij het nieuwe type ONT branden "
                 "<b>POWER</b>, <b>PON</b> en <b>LAN</b> groen en is <b>LOS</b> uit als alles goed is.</p>"
                 '<p><img src="cid:ont-houten@plein.localhost" alt="ONT met groene lampjes" width="320"></p>'
                 "<p>Bram</p>",
            image=("ont-houten.png", "ont-houten@plein.localhost", _ont_photo()),
        )
        self._mail(
            bram, notifications.group_address(self.news), "Hoograven is live: 420 huishoudens op glas",
            "Vanochtend is de laatste wijkkast in Hoograven aangesloten. Alle 420 huishoudens kunnen nu "
            "glasvezel bestellen. Dank aan het hele team, en aan Chloé voor de nachtelijke OTDR-hulp!\n\nBram",
        )
        asked = self._mail(
            self.tom, notifications.group_address(self.helpdesk), "Work-order app crashes when I attach a photo",
            "Hi helpdesk,\n\nSince this morning the work-order app on my phone closes as soon as I attach a photo "
            "to a KLIC report. Android 14, app version 4.1.2. Restarting the phone did not help.\n\nCheers,\nTom",
        )
        # Posted unless PLEIN_INBOUND_AUTH could not verify Tom's From: then it waits for a moderator.
        question = self.session.scalar(select(Post).where(Post.inbound_id == asked.id))
        if question is not None:
            posts.create_comment(
                self.session, question, self.chloe,
                "Known bug in 4.1.2, fixed in 4.2.0: update the app from the company portal and it works again. "
                "Your photos are kept.",
            )
        self._mail(
            ("Kabelgroothandel Verkoop", "verkoop@kabelgroothandel.example"),
            notifications.group_address(self.engineering), "Aanbieding patchkabels SC/APC",
            "Geachte heer/mevrouw,\n\nDeze maand 20% korting op alle patchkabels SC/APC. "
            "Bestel voor vrijdag.\n\nMet vriendelijke groet,\nKabelgroothandel",
        )

    def _person(self, person: DemoPerson) -> User:
        user = accounts.create_user(self.session, person.email, person.name)
        profiles.update_profile(self.session, user, profiles.ProfileForm(
            person.department, person.job_title, person.bio, person.expertise,
        ))
        preferences.update_settings(self.session, user, replace(preferences.settings_of(user), language=person.language))
        user.created_at = self._at(90, "09:00")
        return user

    def _group(
        self, slug: str, name: str, description: str, members: list[tuple[User, str]], private: bool = False,
    ) -> Group:
        group = groups.create_group(self.session, slug, name, private=private, description=description)
        group.created_at = self._at(90, "09:00")
        for user, delivery in members:
            groups.add_member(self.session, group, user, delivery).created_at = self._at(60, "09:00")
        return group

    def _at(self, days_ago: int, clock: str) -> datetime:
        """`clock` o'clock, local time, `days_ago` days before today: history in office hours."""
        zone = ZoneInfo(context_of(self.session).settings.timezone)
        day = self.now.astimezone(zone).date() - timedelta(days=days_ago)
        return datetime.combine(day, time.fromisoformat(clock), zone).astimezone(UTC)

    def _post(
        self, group: Group, author: User, *, at: Moment, title: str, text: str,
        attachments: Sequence[tuple[str, str, bytes]] = (), comments: Sequence[tuple[User, Moment, str]] = (),
    ) -> Post:
        """A post and its comments of days ago, as history: no mail goes out for them."""
        post = posts.create_post(self.session, group, author, title, text)
        post.created_at = self._at(*at)
        jobs.cancel(self.session, notifications.NOTIFY_POST, post.id)
        for filename, content_type, data in attachments:
            attach(self.session, post, filename, content_type, data).created_at = post.created_at
        for commenter, when, body in comments:
            self._comment(post, commenter, when, body)
        return post

    def _comment(self, post: Post, author: User, at: Moment, body: str, parent: Comment | None = None) -> Comment:
        comment = posts.create_comment(self.session, post, author, body, parent=parent)
        comment.created_at = self._at(*at)
        jobs.cancel(self.session, notifications.NOTIFY_COMMENT, comment.id)
        return comment

    def _reply_by_mail(self, post: Post, answered: Comment) -> None:
        """Bram answers the mail of Chloé's comment from his phone: quote and signature below his words."""
        when = answered.created_at.astimezone(ZoneInfo(context_of(self.session).settings.timezone))
        engineering = post.group
        quoted = "\n".join(f"> {line}" for line in answered.body_text.splitlines())
        self._mail(
            self.bram, notifications.reply_address(post, answered, self.bram), f"Re: [{engineering.name}] {post.title}",
            "Klopt, het was las 4. Opnieuw gelast, nu 0,2 dB en de hele vezel 2,1 dB. Ik meet morgen de "
            "andere vezels in HGV-12 ook nog even door.\n\n"
            f"Op {when:%d-%m-%Y} om {when:%H:%M} schreef {answered.author.name} via {engineering.name} "
            f"<{notifications.group_address(engineering)}>:\n\n{quoted}\n\n"
            "-- \nBram Jansen\nMonteur glasvezel\nVerzonden vanaf mijn telefoon",
            answers=(
                message_ids.message_id(self.session, "post", post.id),
                message_ids.message_id(self.session, "comment", answered.id),
            ),
        )

    def _mail(
        self, sender: User | tuple[str, str], to: str, subject: str, text: str, *, html: str | None = None,
        image: tuple[str, str, bytes] | None = None, answers: tuple[str, ...] = (),
    ) -> InboundMessage:
        """Mail from `sender` to `to`, stored and processed as if SMTP had just accepted it."""
        name, address = (sender.name, sender.email) if isinstance(sender, User) else sender
        message = EmailMessage()
        message["From"] = formataddr((name, address))
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(self.now)
        message["Message-ID"] = make_msgid(domain=address.partition("@")[2])
        if answers:  # RFC 5322, 3.6.4: what it answers, and the thread above that
            message["In-Reply-To"] = answers[-1]
            message["References"] = " ".join(answers)
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
            if image is not None:
                filename, content_id, data = image
                message.get_payload()[1].add_related(
                    data, "image", "png", cid=f"<{content_id}>", filename=filename, disposition="inline",
                )
        stored = inbound.store_inbound(self.session, message.as_bytes(policy=SMTP), address, [to])
        return inbound.process_inbound(self.session, stored.id)


def _manual() -> bytes:
    document = Document()
    document.add_heading("Glasvezel aansluiten: veldhandleiding", 1)
    document.add_paragraph(
        "Controleer eerst de ONT-lampjes. Brandt LOS rood, dan is de glasvezelkabel geknikt of vuil. "
        "Reinig de connector met een klikreiniger en meet het signaal: tussen -8 en -25 dBm is goed."
    )
    document.add_paragraph(
        "Houd bij het wegwerken van de binnenkabel een buigradius van minimaal 30 mm aan; "
        "een scherpere bocht geeft extra demping."
    )
    document.add_paragraph("Fiber modem checklist: power, PON, LOS, LAN.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _alarm_log(day: datetime) -> bytes:
    date = f"{day:%Y-%m-%d}"
    return "\n".join((
        f"{date} 02:14:07 OLT-UTR-OOST-01 MAJOR    Mains power failure, running on battery",
        f"{date} 03:51:44 OLT-UTR-OOST-01 CRITICAL Battery voltage low (46.1 V)",
        f"{date} 04:02:10 OLT-UTR-OOST-01 CRITICAL Shelf shutdown; 37 ONTs sent dying gasp",
        f"{date} 06:40:55 OLT-UTR-OOST-01 CLEARED  Mains power restored",
        f"{date} 06:41:30 OLT-UTR-OOST-01 CLEARED  37 ONTs back in service",
        "",
    )).encode()


def _pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF of `lines` in Helvetica, written by hand: Plein reads PDFs but has no library to write them."""

    def shown(text: str) -> bytes:
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped}) Tj T*".encode("cp1252")

    content = b"\n".join((
        b"BT /F1 16 Tf 56 780 Td 28 TL", shown(title), b"/F1 11 Tf 16 TL", *(shown(line) for line in lines), b"ET",
    ))
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    )
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def _ont_photo(width: int = 320, height: int = 200) -> bytes:
    """A drawing of an ONT on a wall, its lights as they should be, as a PNG (RFC 2083) made by hand."""
    wall, box, edge = (228, 222, 206), (248, 248, 246), (150, 150, 150)
    green, off, fibre, lan = (40, 190, 80), (95, 95, 95), (240, 200, 20), (40, 90, 200)
    lights = [(110, green), (150, green), (190, off), (230, green)]

    def colour(x: int, y: int) -> tuple[int, int, int]:
        if 60 <= x < 260 and 50 <= y < 140:
            if x < 63 or x >= 257 or y < 53 or y >= 137:
                return edge
            for cx, light in lights:
                if (x - cx) ** 2 + (y - 90) ** 2 <= 36:
                    return light
            return box
        if y >= 140 and 128 <= x < 134:
            return fibre
        if y >= 140 and 220 <= x < 228:
            return lan
        return wall

    rows = b"".join(
        b"\x00" + bytes(channel for x in range(width) for channel in colour(x, y)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
