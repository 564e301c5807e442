"""Search benchmark: Plein's Tantivy index side by side with SQLite FTS5 and PostgreSQL full-text search.

    python bench/search.py --items 100000

Generates a corpus of Dutch and English posts, comments and documents in 20 groups (3 of
them private), streamed item by item so that `--items 1000000` fits in memory. Its words
follow Zipf's law over a vocabulary of some 7,400 words per language: function words,
everyday words of company mail, and a long tail of made-up compounds and names. Items come
in threads (a post, its attachments, its comments), each thread on one of 50 topics whose
own words make up a fifth of its content words, so a topic's main words occur in about 1.5
to 3.5% of the items and its last ones in a few per thousand. It builds three indexes from
it: Plein's Tantivy index (`SearchIndex.rebuild`, as `plein reindex` writes it), SQLite
FTS5, and PostgreSQL full-text search (a GIN index over a tsvector column, what Discourse
uses) in a throw-away cluster from Debian's `postgresql`. Build rates exclude the time spent
generating the corpus. All three are then served over HTTP from one child process, or from
`--server-processes N` of them like several web processes beside the index, each on a port of
its own and each answering `--searches-at-once` searches at a time (the cores shared out
among the processes, as `PLEIN_SEARCHES_AT_ONCE` would be set; see `search/turns.py`). Each
client sends its next request to the process with the fewest under way, as a load balancer
set to least connections would (its own cost is not counted). Query
latency (p50/p95/p99) is measured with 8 concurrent clients for a fixed query mix, each
query filtered to what one user may see; then the latency of Tantivy's
search-as-you-type suggestions for a fixed list of prefixes. It also prints the server's RSS
and the nDCG@10 of the judged relevance set. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from search.documents import IndexedItem  # noqa: E402
from search.index import SearchIndex  # noqa: E402
from search.turns import SearchTurns  # noqa: E402
from tests.support.servers import wait_for  # noqa: E402

GROUPS = 20
PRIVATE = {18, 19, 20}
AUTHORS = 300
DUTCH_SHARE = 0.6
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=731)
"""Items are spread evenly over these two years whatever their number, so date filters keep their selectivity."""

FUNCTION_WORDS = {
    "nl": (
        "de en van het een in is dat op te voor met niet zijn er die aan ook als bij maar om we ik je naar "
        "nog dan wel of wordt kan over uit dit door zo al meer heeft hebben was geen tot moet wat heb u ze "
        "onze ons jullie zou kunnen moeten mijn hier daar nu even alle deze toch want omdat waar wie hoe "
        "welke veel weer na tegen zonder tussen onder sinds tijdens per via zelf iets niets iemand alleen "
        "eigenlijk misschien nou ja nee"
    ).split(),
    "en": (
        "the to and of a in is for that on we it with be this you i have are as at not will from our can by "
        "or if an was all so but has there they do about would just one more also been what out up which "
        "when should any me us some no still now could them before after here then only into than other "
        "their over yes how its my your were did does had these those most very"
    ).split(),
}
"""The most frequent words, most frequent first: together about half of all running text."""

ORDINARY_WORDS = {
    "nl": (
        "goed graag vandaag morgen week vraag bedankt groet groeten collega team tijd mail bericht bijlage "
        "informatie overzicht afspraak project klant werk kantoor maandag dinsdag woensdag donderdag vrijdag "
        "volgende vorige eerste laatste probleem oplossing voorstel besluit punt punten actie antwoord "
        "reactie versie document bestand lijst datum uur minuten ochtend middag avond jaar maand maanden "
        "weken dagen mensen medewerkers afdeling manager directie organisatie bedrijf kosten prijs nummer "
        "adres telefoon contact situatie status update wijziging aanpassing controle overleg gesprek idee "
        "plan doel resultaat nieuw nieuwe belangrijk snel duidelijk mogelijk nodig klaar eerder later "
        "binnenkort direct zeker helaas gelukkig extra beter groot klein kort lang open vrij druk rustig gaan "
        "komen maken doen zien kijken weten denken vinden laten geven nemen sturen ontvangen gestuurd "
        "bespreken besproken regelen geregeld controleren aanpassen melden bevestigen inplannen afronden "
        "nakijken doorsturen toevoegen verwijderen gebruiken werken helpen zoeken vragen zeggen horen lezen "
        "schrijven bellen terugkoppeling afstemmen opvolgen uitzoeken goedkeuren akkoord fijn prima "
        "natuurlijk inderdaad momenteel voorlopig uiteindelijk vooral samen verder meteen opnieuw alvast "
        "vriendelijke hartelijke hoi hallo beste iedereen allemaal niemand afgelopen komende huidige juiste "
        "verkeerde eigen andere zelfde genoeg ongeveer precies waarschijnlijk blijkbaar hopelijk tenminste "
        "trouwens overigens inmiddels nogmaals verzoek herinnering mededeling aankondiging toelichting uitleg "
        "vervolg stappen afspraken termijn moment keer kwestie onderwerp gegevens cijfers bedrag aantal "
        "rapportage verslag vergadering notitie opmerking opmerkingen planning aandacht ervaring kennis hulp "
        "steun zorgen risico kans fout fouten melding meldingen systeem proces procedure regels beleid "
        "afdelingen leidinggevende directeur coordinator secretariaat receptie zaal ruimte gebouw ingang trap "
        "kamer scherm telefoontje voicemail uitnodiging bevestiging annulering wachten beginnen stoppen "
        "veranderen verbeteren oplossen vastleggen delen tonen ophalen brengen betalen bestellen leveren "
        "proberen vergeten onthouden begrijpen vertellen uitnodigen aanmelden afmelden verplaatsen uitstellen "
        "half heel hele weinig minder beetje zeer echt gewoon"
    ).split(),
    "en": (
        "thanks please team week today tomorrow time update question issue work office client project plan "
        "monday tuesday wednesday thursday friday next last first new good great sure quick call email "
        "message attached document file list date hour minutes morning afternoon evening people staff "
        "department manager company cost price number address phone contact status change changes check idea "
        "goal result results get need know let think see look make take give send sent help fix finish start "
        "share follow discuss confirm add remove use find ask tell read write agree approve hope working done "
        "ready soon later earlier asap already again right wrong own same enough around exactly probably "
        "apparently hopefully anyway meanwhile reminder request announcement note notes summary overview "
        "explanation steps deadline meeting moment times topic details data figures amount total comments "
        "attention experience knowledge concern risk chance error errors system process procedure rules "
        "policy director coordinator reception room building entrance floor screen voicemail invitation "
        "confirmation cancellation wait begin stop improve solve record show pick bring pay order deliver try "
        "forget remember understand explain invite register cancel move postpone half whole little less bit "
        "really actually basically everyone anyone nobody past upcoming correct various several important "
        "clear possible necessary free busy quiet big small short long happy sorry hi hello dear regards best "
        "kind cheers fyi going coming thing things part point points way case cases place level option "
        "options answer"
    ).split(),
}
"""Everyday words of company mail, roughly most frequent first."""

TOPICS = {
    "nl": [
        "overleg, agenda, notulen, vergadering, actiepunten, vergaderzaal, teamoverleg, voorzitter, besluitenlijst",
        "project, planning, mijlpaal, deadline, projectplan, voortgang, fasering, stuurgroep, projectleider",
        "storing, modem, internet, verbinding, router, wifi, herstart, uitval, storingsmelding, glasvezel, lampje",
        "begroting, budget, kosten, factuur, facturen, kwartaal, boekhouding, btw, betaling, declaratie",
        "offerte, leverancier, inkoop, prijsopgave, bestelling, levertijd, korting, inkooporder, raamcontract",
        "rooster, dienst, ploeg, bezetting, ruilen, weekenddienst, nachtdienst, invaller, beschikbaarheid",
        "klant, klantgesprek, klacht, terugbellen, klantenservice, tevredenheid, klantnummer, contactmoment",
        "netwerk, beheer, netwerk beheer, switch, serverruimte, bekabeling, patchkast, toegangspunt, firewall",
        "kantine, lunch, broodjes, koffie, koffieautomaat, menu, soep, catering, vrijdagborrel",
        "thuiswerken, hybride, thuiswerkvergoeding, laptop, bureaustoel, beeldscherm, videobellen, kantoordagen",
        "verhuizing, verhuisdozen, sleutels, inpakken, verhuizer, plattegrond, adreswijziging, nieuwe kantoor",
        "salaris, loonstrook, vakantiegeld, verlof, ziekmelding, personeelszaken, pensioen, eindejaarsuitkering",
        "glasvezel, aansluiting, graafwerk, monteur, glasvezel aansluiting, meterkast, huisaansluiting, wijk, "
        "aannemer, vergunning, lasdoos, kabelgoot",
        "wachtwoord, inloggen, account, helpdesk, tweestapsverificatie, laptop, updates, wachtwoordbeleid",
        "onderhoud, lift, verwarming, airco, lekkage, schoonmaak, loodgieter, gebouwbeheer, storingsdienst",
        "installatie, monteur, meterkast, zekering, aansluitpunt, bekabeling, oplevering, keuring",
        "cursus, training, opleiding, certificaat, workshop, inschrijving, opleidingsbudget, trainer",
        "ledenvergadering, leden, bestuur, stemming, jaarverslag, kascommissie, contributie, notulen",
        "vacature, sollicitatie, kandidaat, sollicitatiegesprek, werving, stagiair, proeftijd, referenties",
        "personeelsuitje, borrel, kerstpakket, kerstdiner, jubileum, taart, afscheid, cadeau, feestcommissie",
        "gemeente, vergunning, bestemmingsplan, aanvraag, bezwaar, omgevingsvergunning, wethouder, inspraak",
        "brandoefening, ontruiming, bhv, nooduitgang, verzamelplaats, brandmelder, ehbo, evacuatie",
        "parkeren, parkeerplaats, fietsenstalling, fiets, laadpaal, slagboom, parkeervergunning",
        "verzekering, polis, schade, schadeformulier, dekking, premie, verzekeraar, eigen risico",
        "leaseauto, tankpas, bestelbus, wagenpark, onderhoudsbeurt, kilometers, winterbanden, schadeformulier",
        "printer, papier, toner, kantoorartikelen, scanner, afdrukken, nietmachine",
        "nieuwsbrief, website, communicatie, persbericht, artikel, redactie, sociale media",
        "duurzaamheid, zonnepanelen, energieverbruik, afvalscheiding, isolatie, warmtepomp, energielabel",
    ],
    "en": [
        "meeting, agenda, minutes, action items, slides, town hall, meeting room, recap",
        "customer, feedback, customer feedback, survey, support ticket, complaint, satisfaction, churn",
        "deployment, release, staging, production, rollback, pipeline, hotfix, changelog, release notes",
        "invoice, payment, budget, expense, reimbursement, purchase order, forecast, accounts payable, quarter",
        "roadmap, quarter, feature, priorities, product, milestone, backlog, okr, roadmap review",
        "security, audit, security audit, vulnerability, compliance, penetration test, encryption, phishing",
        "server, database, migration, replication, upgrade, downtime, query, index, postgres",
        "backup, restore, snapshot, disaster recovery, retention, storage, backup schedule",
        "firewall, vpn, network, outage, latency, dns, bandwidth, router, firewall rules",
        "onboarding, new hire, laptop, accounts, buddy, orientation, welcome, onboarding checklist",
        "holiday, leave, vacation, time off, public holiday, schedule, cover, holiday schedule",
        "training, course, certification, workshop, webinar, learning budget, trainer",
        "license, renewal, subscription, seats, vendor, procurement, software, license key",
        "report, dashboard, metrics, kpi, monthly report, analytics, chart, report template",
        "contract, supplier, negotiation, terms, signature, sla, contract renewal, legal review",
        "hiring, candidate, interview, job posting, recruiter, offer letter, references, hiring manager",
        "incident, on call, postmortem, pager, alert, escalation, root cause, incident report",
        "website, campaign, newsletter, blog post, seo, landing page, launch",
        "travel, flight, hotel, conference, expenses, booking, train tickets, per diem",
        "gdpr, privacy, data processing, consent, retention, privacy policy, data breach",
        "lead, deal, proposal, demo, prospect, crm, quote, sales pipeline",
        "printer, toner, office supplies, desk, badge, parking, coffee machine",
    ],
}
"""Topics in order of popularity, each its words (and a few bigrams) most frequent first. Every thread has
one topic; the n-th topic of each language (counting from 0) has group n % GROUPS + 1 as its home group."""

LONG_TAIL_PARTS = {
    "nl": [
        (  # compounds such as kabel+kast and team+map
            "kabel net werk klant dienst water huis straat data post kantoor team prijs order lever bouw weg "
            "stroom licht deur sleutel brand reken tijd maand jaar dag leer zorg test meet lucht grond glas "
            "buis pomp vloer dak muur raam fiets auto trein bus kaart boek code geld loon kas bank winkel "
            "markt wijk stad dorp school zaal keuken tuin hout staal plaat pijp meter schakel bord".split(),
            "goot kast plan lijst overzicht nummer meting punt kosten dienst afspraak regeling formulier "
            "systeem melding controle schema rapport verslag map bak doos lamp leiding draad slot stuk ploeg "
            "leider wagen huis plaats ruimte veld pas brief nota datum ronde groep zak bon kaart balk rand "
            "tafel hoek toren hal lade klep knop schijf zuil".split(),
        ),
        (  # place and family names such as brakveld and zwieldijk
            "b d g h k l m n p r s t v w z br dr gr kr pr tr bl kl sl st sch sp zw".split(),
            "a e i o u aa ee oo ie oe ei ui au ij eu".split(),
            ["", "k", "l", "m", "n", "p", "r", "s", "t", "rt", "nd", "ng", "lt", "st", "ch", "cht"],
            "dijk veld berg hoven horst beek broek wijk dam huizen sma ink ing man stra meer".split(),
        ),
    ],
    "en": [
        (  # compounds such as re+load+ing and cross+track+er
            ["", "re", "pre", "sub", "over", "under", "co", "un", "inter", "multi", "auto", "cross", "out",
             "up", "back", "micro"],
            "port load stream track link sync form scale build check store sort route flow mark print lock "
            "ship view point set cast frame line base board field hand book gate hub lane path spot stack "
            "tool ware zone".split(),
            ["", "s", "er", "ers", "ing", "ed", "able"],
        ),
        (  # place and family names such as brockford and trainley
            "b c d f g h j k l m n p r s t v w br cr fl gr pl sh st tr th ch".split(),
            "a e i o u ai ea ee oo ou".split(),
            ["", "ck", "ll", "m", "n", "nd", "nt", "p", "rt", "sh", "st", "t", "x", "ng"],
            "ton ford ley ham son field er ix ly io wood wick by more".split(),
        ),
    ],
}
"""Syllables and word parts from which each language's long tail is made, every combination of one of each."""
LONG_TAIL_PER_PATTERN = 3500
"""Words taken from each pattern's combinations, so 7,000 in each language's long tail."""

PREFIXES = ["g", "gla", "glasv", "verg", "verga", "mod", "dep", "secu", "kabelg", "in", "offer", "plan"]
"""Search-as-you-type prefixes over titles, from one that starts a quarter of the titles to rare ones."""
QUERIES = [
    "glasvezel", "vergadering", "modem storing", '"glasvezel aansluiting"', "offerte -leverancier",
    "invoice", "deployment", "security audit", "backup OR firewall", "kind:document budget",
    "group:g3 planning", "from:user7 rooster", "after:2025-06-01 meeting", "glasvezle", "deploymnet",
    "kabelgoot monteur", "roadmap quarter", "thuiswerken", "customer feedback", "netwerk beheer",
]
"""The query mix. At 100k items its single words each occur in 1.7 to 4.2% of the items, its pairs in 1.4
to 2.6%, its phrase in 0.9% and `kabelgoot monteur` in 0.2%; the two typos only match on a fuzzy retry."""

TOPIC_SHARE = 0.12
"""Share of a topical text's running words drawn from its topic: about a fifth of its content words."""
TOPIC_WORD_EXPONENT = 1.5
"""Steeper than running text, so a topic's first words are common and its last ones rare."""
TOPIC_POPULARITY_EXPONENT = 0.5
"""Gentle: a language's first topic comes up about four times as often as its last."""
HOME_GROUP_SHARE = 0.6
"""Share of a topic's threads started in its home group rather than in any group."""
OFF_TOPIC_SHARE = 0.1
"""Share of comments that drift off the thread's topic."""
OTHER_LANGUAGE_SHARE = 0.05
"""Share of comments written in the thread's other language (and off topic)."""
ATTACHMENT_SHARE = 0.3
"""Share of posts with one or more attached documents."""
MAX_COMMENTS = 60
"""Comments per thread follow a Pareto law: most threads get none or one, a few get dozens."""
SENTENCE_LENGTHS = range(4, 19)
RAREST_COPIES = 4


def zipf(words: Iterable, exponent: float = 1.0) -> dict:
    """Weights proportional to 1 / (rank + 1) ** exponent, the first word ranking 1.

    With exponent 1 that is the Zipf-Mandelbrot law of word frequencies in running text: a few
    words make up much of it, most words are rare.
    """
    return {word: (rank + 1) ** -exponent for rank, word in enumerate(words, start=1)}


class Words:
    """Words to draw at random in proportion to their weights.

    Each word goes into a bag RAREST_COPIES times its weight relative to the lightest word,
    rounded: drawing uniformly from the bag is several times faster than `random.choices`
    with weights, at the price of rounding the weights of the rarest words a little.
    """

    def __init__(self, weights: dict) -> None:
        unit = min(weights.values()) / RAREST_COPIES
        self.bag = [word for word, weight in weights.items() for _ in range(round(weight / unit))]

    def draw(self, rng: random.Random, k: int) -> list:
        return rng.choices(self.bag, k=k)

    def one(self, rng: random.Random):
        return rng.choice(self.bag)


def long_tail(language: str) -> list[str]:
    """Several thousand made-up but plausible words, compounds before names, in a fixed random order."""
    rng = random.Random(language)
    taken = set(FUNCTION_WORDS[language] + ORDINARY_WORDS[language])
    taken.update(word for topic in TOPICS[language] for word in topic.split(", "))
    tail: list[str] = []
    for parts in LONG_TAIL_PARTS[language]:
        candidates = sorted({"".join(combination) for combination in product(*parts)} - taken)
        tail += rng.sample(candidates, LONG_TAIL_PER_PATTERN)
        taken.update(tail)
    return tail


class Language:
    """The word tables of one language: its running text, its titles and its topics."""

    def __init__(self, code: str) -> None:
        tail = long_tail(code)
        self.text = Words(zipf(FUNCTION_WORDS[code] + ORDINARY_WORDS[code] + tail))
        self.title_words = Words(zipf(ORDINARY_WORDS[code] + tail))
        self.topics = Words(zipf(range(len(TOPICS[code])), TOPIC_POPULARITY_EXPONENT))
        self.topic_words = [Words(zipf(topic.split(", "), TOPIC_WORD_EXPONENT)) for topic in TOPICS[code]]


def text(rng: random.Random, words: Words, topic: Words | None, sentences: int) -> str:
    """Sentences of 4 to 18 words, TOPIC_SHARE of them from `topic` (if any) at random places."""
    lengths = rng.choices(SENTENCE_LENGTHS, k=sentences)
    drawn = words.draw(rng, sum(lengths))
    if topic is not None:
        topical = int(len(drawn) * TOPIC_SHARE + rng.random())  # rounded at random: the share holds on average
        for place, word in zip(rng.choices(range(len(drawn)), k=topical), topic.draw(rng, topical)):
            drawn[place] = word
    start = 0
    for length in lengths:
        drawn[start] = drawn[start].capitalize()
        start += length
        drawn[start - 1] += "."
    return " ".join(drawn)


def title(rng: random.Random, language: Language, topic: int) -> str:
    """One or two topic words among one to four other words, like `Storing modem Kerkstraat`."""
    words = language.topic_words[topic].draw(rng, rng.randint(1, 2))
    words += language.title_words.draw(rng, rng.randint(1, 4))
    rng.shuffle(words)
    line = " ".join(words)
    return line[0].upper() + line[1:]


def corpus(count: int, seed: int = 7) -> Iterator[IndexedItem]:
    """`count` items, a thread at a time: a post, its attachments, then its comments, ids in that order."""
    rng = random.Random(seed)
    dutch, english = Language("nl"), Language("en")
    authors = Words(zipf(range(1, AUTHORS + 1)))  # a few people write much of the mail
    item_id = 0
    while True:
        language, other = (dutch, english) if rng.random() < DUTCH_SHARE else (english, dutch)
        topic = language.topics.one(rng)
        group = topic % GROUPS + 1 if rng.random() < HOME_GROUP_SHARE else rng.randint(1, GROUPS)
        post_id = item_id + 1
        starter = authors.one(rng)
        subject = title(rng, language, topic)
        documents = rng.choice((1, 1, 1, 2, 3)) if rng.random() < ATTACHMENT_SHARE else 0
        comments = min(int(rng.paretovariate(1.5)) - 1, MAX_COMMENTS)
        topic_words = language.topic_words[topic]
        for kind in ["post"] + ["document"] * documents + ["comment"] * comments:
            item_id += 1
            if item_id > count:
                return
            author, item_title = starter, subject
            if kind == "post":
                body = text(rng, language.text, topic_words, rng.randint(2, 8))
            elif kind == "document":
                item_title = f"bijlage-{item_id}.pdf"
                body = text(rng, language.text, topic_words, rng.randint(10, 60))
            else:
                author, item_title = authors.one(rng), f"Re: {subject}"
                chance = rng.random()
                if chance < OTHER_LANGUAGE_SHARE:
                    body = text(rng, other.text, None, rng.randint(1, 4))
                elif chance < OTHER_LANGUAGE_SHARE + OFF_TOPIC_SHARE:
                    body = text(rng, language.text, None, rng.randint(1, 4))
                else:
                    body = text(rng, language.text, topic_words, rng.randint(1, 4))
            yield IndexedItem(
                kind=kind, id=item_id, post_id=post_id, group_id=group, title=item_title, body=body,
                author_name=f"User {author}", author_email=f"user{author}@example.nl",
                created_at=START + SPAN * (item_id / count), group_slug=f"g{group}",
                has_attachment=kind == "document" or (kind == "post" and documents > 0),
            )


class Timed:
    """The corpus as a stream, keeping the time spent generating it, so build rates leave it out."""

    def __init__(self, count: int) -> None:
        self._items = corpus(count)
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> IndexedItem:
        started = time.perf_counter()
        try:
            return next(self._items)
        finally:
            self.seconds += time.perf_counter() - started


def rate(count: int, build) -> float:
    """Items per second of `build(items)`, leaving out the time spent generating the items."""
    items = Timed(count)
    started = time.perf_counter()
    build(items)
    return count / (time.perf_counter() - started - items.seconds)


def build_tantivy(path: Path, count: int) -> float:
    return rate(count, SearchIndex.open(path).rebuild)


def build_fts(path: Path, count: int) -> float:
    return rate(count, lambda items: _fill_fts(path, items))


def _fill_fts(path: Path, items) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, kind TEXT, group_id INT, created TEXT, title TEXT, body TEXT)")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, content='items', content_rowid='id', "
               "tokenize='unicode61 remove_diacritics 2')")
    batch = []
    for item in items:
        batch.append((item.id, item.kind, item.group_id, item.created_at.isoformat(), item.title, item.body))
        if len(batch) == 5000:
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)", batch)
    db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
    db.commit()
    db.close()


PG_TEXT = "simple"
"""Text search configuration: lower case, no stemming, like the FTS5 side (the corpus mixes two languages)."""


def build_postgres(url: str, count: int) -> float:
    return rate(count, lambda items: _fill_postgres(url, items))


def _fill_postgres(url: str, items) -> None:
    """COPY the items in as they are generated, then compute the tsvectors and build the GIN index."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS items")
        db.execute("CREATE TABLE items (id int PRIMARY KEY, kind text, group_id int, created timestamptz, "
                   "title text, body text, tsv tsvector)")
        with db.cursor().copy("COPY items (id, kind, group_id, created, title, body) FROM STDIN") as copy:
            for item in items:
                copy.write_row((item.id, item.kind, item.group_id, item.created_at, item.title, item.body))
        db.execute(f"UPDATE items SET tsv = setweight(to_tsvector('{PG_TEXT}', title), 'A') "
                   f"|| setweight(to_tsvector('{PG_TEXT}', body), 'B')")
        db.execute("CREATE INDEX items_tsv ON items USING gin (tsv)")
        db.execute("CREATE INDEX items_group ON items (group_id)")
        db.execute("VACUUM ANALYZE items")


def start_postgres():
    """A throw-away PostgreSQL like the tests start, or None (with the reason printed) when it is not installed."""
    from tests.support import databases

    if databases.POSTGRES_BIN is None or shutil.which("runuser") is None:
        print("postgres:    not installed (Debian package postgresql): left out")
        return None
    return databases.PostgresServer()


def serve(index_dir: str, fts_path: str, postgres_url: str, port: int, searches_at_once: int) -> None:
    """The child process: one HTTP server answering /tantivy, /suggest, /fts and /postgres, like the web role would."""
    import re

    import uvicorn
    from fastapi import FastAPI

    index = SearchIndex.open(Path(index_dir))
    local = threading.local()
    app = FastAPI()

    def group_ids(listed: str) -> set[int]:
        return {int(g) for g in listed.split(",") if g}

    @app.get("/tantivy")
    def tantivy_search(q: str, groups: str, hidden: str = "") -> dict:
        found = index.search(q, group_ids(groups), limit=20, hidden_group_ids=group_ids(hidden))
        return {"total": found.total, "ids": [hit.id for hit in found.hits]}

    @app.get("/fts")
    def fts_search(q: str, groups: str) -> dict:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(fts_path, check_same_thread=False)
        words = " ".join(f'"{w}"' for w in re.findall(r"\w+", re.sub(r"\w+:\S+", " ", q)) if w != "OR")
        visible = ",".join(str(int(g)) for g in groups.split(","))
        rows = local.db.execute(
            f"SELECT items.id FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ? "
            f"AND items.group_id IN ({visible}) ORDER BY bm25(fts, 2.0, 1.0) LIMIT 20", (words or '""',)
        ).fetchall()
        total = local.db.execute(
            f"SELECT count(*) FROM fts JOIN items ON items.id = fts.rowid WHERE fts MATCH ? AND items.group_id IN ({visible})",
            (words or '""',),
        ).fetchone()[0]
        return {"total": total, "ids": [r[0] for r in rows]}

    @app.get("/suggest")
    def tantivy_suggest(q: str, groups: str, hidden: str = "") -> dict:
        return {"titles": [s.title for s in index.suggest(q, group_ids(groups), hidden_group_ids=group_ids(hidden))]}

    @app.get("/postgres")
    def postgres_search(q: str, groups: str) -> dict:
        import psycopg

        if not hasattr(local, "pg"):
            local.pg = psycopg.connect(postgres_url, autocommit=True)
        words = re.sub(r"\w+:\S+", " ", q)
        visible = [int(g) for g in groups.split(",")]
        query = f"websearch_to_tsquery('{PG_TEXT}', %s)"
        rows = local.pg.execute(
            f"SELECT id FROM items WHERE tsv @@ {query} AND group_id = ANY(%s) "
            f"ORDER BY ts_rank_cd(tsv, {query}) DESC LIMIT 20", (words, visible, words),
        ).fetchall()
        total = local.pg.execute(
            f"SELECT count(*) FROM items WHERE tsv @@ {query} AND group_id = ANY(%s)", (words, visible)
        ).fetchone()[0]
        return {"total": total, "ids": [r[0] for r in rows]}

    # Like the hub's web process, every engine's searches take turns (search/turns.py).
    served = SearchTurns(app, paths={"/tantivy", "/suggest", "/fts", "/postgres"}, at_once=searches_at_once)
    uvicorn.Server(uvicorn.Config(served, host="127.0.0.1", port=port, log_level="warning")).run()


def measure(base_urls: list[str], engine: str, rounds: int, clients: int = 8, queries: list[str] = QUERIES) -> dict:
    # The reader is in private group 19; like the hub, the client names the groups it may not see too.
    visible = ",".join(str(g) for g in range(1, GROUPS + 1) if g not in PRIVATE or g == 19)
    hidden = ",".join(str(g) for g in sorted(PRIVATE - {19}))
    latencies: list[float] = []
    under_way = [0] * len(base_urls)
    lock = threading.Lock()

    def least_busy(n: int) -> int:
        """The server with the fewest requests under way (ties taken in turn), now counting this one."""
        with lock:
            chosen = min(range(len(base_urls)), key=lambda s: (under_way[s], (s - n) % len(base_urls)))
            under_way[chosen] += 1
        return chosen

    def client(n: int) -> None:
        # http.client, not httpx: the clients share the 2 cores with the server, and httpx spent
        # 1.5 ms of CPU on each request where http.client spends 0.25.
        connections = [http.client.HTTPConnection(urlsplit(url).netloc, timeout=30) for url in base_urls]
        mine = []
        for r in range(rounds):
            query = queries[(n + r) % len(queries)]
            server = least_busy(n + r)
            started = time.perf_counter()
            connections[server].request("GET", f"/{engine}?" + urlencode({"q": query, "groups": visible, "hidden": hidden}))
            response = connections[server].getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            with lock:
                under_way[server] -= 1
            if response.status != 200:
                raise RuntimeError(f"{engine} answered {response.status} to {query!r}")
        for connection in connections:
            connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "qps": len(latencies) / elapsed}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def relevance() -> float:
    from tests.search.relevance_set import NOW, mean_ndcg
    from tests.search.relevance_set import corpus as judged_corpus

    index = SearchIndex.in_memory()
    index.rebuild(judged_corpus()[0])
    mean, _ = mean_ndcg(lambda q: [hit.id for hit in index.search(q, {1}, limit=10, now=NOW).hits])
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100, help="queries per client per engine")
    parser.add_argument("--server-processes", type=int, default=1,
                        help="HTTP server processes, like several web processes beside the index")
    parser.add_argument("--searches-at-once", type=int,
                        help="searches each server process answers at a time; the cores shared out among them by default")
    parser.add_argument("--serve", nargs=5, metavar=("INDEX_DIR", "FTS_PATH", "POSTGRES_URL", "PORT", "AT_ONCE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], args.serve[2], int(args.serve[3]), int(args.serve[4]))
        return
    postgres = start_postgres()
    try:
        with tempfile.TemporaryDirectory() as work:
            at_once = args.searches_at_once or max(1, (os.cpu_count() or 1) // args.server_processes)
            run(Path(work), args.items, args.rounds, postgres, args.server_processes, at_once)
    finally:
        if postgres is not None:
            postgres.close()
    print(f"relevance    nDCG@10 over the judged set: {relevance():.3f}")
    print(json.dumps({"machine": os.uname().machine, "cpus": os.cpu_count(), "load": os.getloadavg()}))


def run(work: Path, items: int, rounds: int, postgres, server_processes: int, searches_at_once: int) -> None:
    index_dir, fts_path = work / "index", work / "fts.db"
    postgres_url = postgres.url.replace("postgresql+psycopg://", "postgresql://") if postgres else ""
    print(f"corpus: {items} items in threads (60% Dutch, 40% English; posts, comments, documents), {GROUPS} groups")
    print(f"index build  tantivy:  {build_tantivy(index_dir, items):8.0f} items/s")
    print(f"index build  fts5:     {build_fts(fts_path, items):8.0f} items/s")
    engines = ["tantivy", "fts"]
    if postgres:
        print(f"index build  postgres: {build_postgres(postgres_url, items):8.0f} items/s")
        engines.append("postgres")
    ports = [18000 + os.getpid() % 1000 * 10 + n for n in range(server_processes)]
    servers = [
        subprocess.Popen(
            [sys.executable, __file__, "--serve", str(index_dir), str(fts_path), postgres_url or "-", str(port),
             str(searches_at_once)]
        )
        for port in ports
    ]
    base_urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in base_urls:
            wait_for(lambda: serving(url), timeout=60, what=f"the search server at {url}")
        for engine in engines:  # warm up caches and connections
            measure(base_urls, engine, rounds // 2)
        for engine in engines:
            report(f"http query   {engine:9s}", measure(base_urls, engine, rounds))
        measure(base_urls, "suggest", rounds // 2, queries=PREFIXES)
        report("http suggest tantivy  ", measure(base_urls, "suggest", rounds, queries=PREFIXES))
        sizes = ", ".join(f"{rss_mb(server.pid):.0f}" for server in servers)
        print(f"server RSS after queries: {sizes} MB ({server_processes} process{'es' if server_processes > 1 else ''}, "
              f"{searches_at_once} search{'es' if searches_at_once > 1 else ''} at a time each)")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/docs", timeout=1).is_success
    except httpx.HTTPError:
        return False


def report(label: str, figures: dict) -> None:
    print(f"{label} 8 clients: p50 {figures['p50']:6.1f} ms  p95 {figures['p95']:6.1f} ms  "
          f"p99 {figures['p99']:6.1f} ms  {figures['qps']:6.0f} q/s")


if __name__ == "__main__":
    main()
