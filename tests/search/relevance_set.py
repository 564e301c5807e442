"""A judged relevance set: a fixed corpus and 40 queries with graded answers, for nDCG@10.

Each topic gives two relevant items: one about it (its title says so, grade 2) and one that
mentions it in passing (grade 1). Every other topic's items are the distractors. Queries
use other inflections, the other language's stemming, accents, typos and phrases, so a
ranking change shows up as a change in the figure.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from search.documents import IndexedItem

# (query, title of the item about it, a sentence that mentions it in passing)
TOPICS = [
    ("vergadering", "Vergaderingen over de begroting", "Na de vergaderingen van vorige week is het budget rond."),
    ("glasvezel aansluiting", "Glasvezelaansluiting in de wijk", "De aansluiting op glasvezel volgt na de zomer."),
    ("modems", "Modem herstart elke nacht", "Ook de modem in hal 2 gaf een storing."),
    ("fietsenstalling", "Nieuwe fietsenstalling bij de ingang", "De fietsenstalling gaat maandag dicht voor onderhoud."),
    ("parkeren", "Parkeerplaatsen en parkeren bij kantoor", "Bezoekers kunnen parkeren aan de achterkant."),
    ("invoice", "Invoices for the March shipment", "The invoice for the last batch is still missing."),
    ("meeting notes", "Meeting notes from the planning session", "I added the meeting notes to the shared drive."),
    ("deployment", "Deployments to production on Fridays", "The deployment of version 2 went smoothly."),
    ("onboarding", "Onboarding new colleagues in April", "Her onboarding starts next Monday."),
    ("holidays", "Holiday schedule for the summer", "Please register your holiday before June."),
    ("cafe", "Café op de begane grond opent", "We lunchen morgen in het café om de hoek."),
    ("reünie", "Reunie van oud-collega's", "De reünie is op zaterdag in de kantine."),
    ("verzekering", "Verzekeringen voor leaseauto's", "Check je verzekering voordat je de auto ophaalt."),
    ("salarisstrook", "Salarisstroken staan online", "Je salarisstrook vind je voortaan in het portaal."),
    ("thuiswerken", "Thuiswerken op woensdag", "Thuiswerken blijft mogelijk in overleg."),
    ("firewall", "Firewall rules for the new VPN", "The firewall blocked the update server again."),
    ("backup", "Backups of the file server", "The nightly backup failed twice this week."),
    ("printer", "Printers on the second floor", "The printer near the kitchen is out of toner."),
    ("laptop", "Laptops for the new interns", "My laptop needs a new battery."),
    ("password reset", "Password reset for the portal", "After the password reset I could log in again."),
    ("kantine", "Kantine menu van de week", "De kantine is vrijdag gesloten."),
    ("brandoefening", "Brandoefening op dinsdag", "Tijdens de brandoefening verzamelen we op het plein."),
    ("sleutels", "Sleutelbeheer en sleutels van de kast", "De sleutels liggen bij de receptie."),
    ("verhuizing", "Verhuizing naar het nieuwe pand", "Na de verhuizing krijgt iedereen een nieuwe pas."),
    ("offerte", "Offertes voor zonnepanelen", "De offerte van de leverancier is binnen."),
    ("customer feedback", "Customer feedback from the survey", "We received customer feedback about the app."),
    ("roadmap", "Roadmap for the next quarter", "The roadmap slide is in the deck."),
    ("security audit", "Security audit results", "The security audit found two minor issues."),
    ("budget", "Budget for the team outing", "We are over budget on travel."),
    ("recruitment", "Recruitment of two engineers", "Recruitment is slower than planned."),
    ("glasvezl", "Glasvezel storing in Noord", "Door een storing lag de glasvezel er uren uit."),
    ("vergadring", "Vergadering van het bestuur", "Het bestuur besprak het in de vergadering."),
    ("invioce", "Invoice template update", "Use the new invoice template from now on."),
    ("deploymnet", "Deployment checklist", "Follow the deployment checklist before release."),
    ('"nieuwe koffiemachine"', "Nieuwe koffiemachine in de kantine", "Er komt een nieuwe koffiemachine op de derde."),
    ('"release notes"', "Release notes for version 3", "The release notes mention the new export."),
    ("afvalscheiding", "Afvalscheiding op kantoor", "Let op de afvalscheiding bij de printer."),
    ("ergonomie", "Ergonomie van je werkplek", "Een ergonomie-check helpt tegen rugklachten."),
    ("training", "Trainings on data protection", "The training is mandatory for all staff."),
    ("licenties", "Licenties voor ontwerpsoftware", "De licenties verlopen in december."),
]

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def corpus() -> tuple[list[IndexedItem], dict[str, dict[int, int]]]:
    """The items and, per query, the grade of each relevant item id."""
    items, judgments = [], {}
    for n, (query, title, sentence) in enumerate(TOPICS):
        about, mention = 2 * n + 1, 2 * n + 2
        created = NOW - timedelta(days=10 * n)
        items.append(IndexedItem(
            kind="post", id=about, post_id=about, group_id=1, title=title,
            body=f"{title}. Meer informatie volgt. More details will follow.", author_name="Anna de Boer",
            author_email="anna@example.nl", created_at=created, group_slug="general",
        ))
        items.append(IndexedItem(
            kind="post", id=mention, post_id=mention, group_id=1, title=f"Weekbericht {n + 1}",
            body=f"Korte berichten van deze week. {sentence} Verder niets bijzonders.",
            author_name="Bram Smit", author_email="bram@example.nl", created_at=created, group_slug="general",
        ))
        judgments[query] = {about: 2, mention: 1}
    return items, judgments


def ndcg_at_10(ranked: list[int], grades: dict[int, int]) -> float:
    def dcg(gains: list[int]) -> float:
        return sum((2 ** gain - 1) / math.log2(rank + 2) for rank, gain in enumerate(gains[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(item, 0) for item in ranked]) / ideal if ideal else 0.0


def mean_ndcg(search) -> tuple[float, dict[str, float]]:
    """`search(query) -> ranked ids`; returns the mean nDCG@10 and the figure per query."""
    _items, judgments = corpus()
    per_query = {query: ndcg_at_10(search(query), grades) for query, grades in judgments.items()}
    return sum(per_query.values()) / len(per_query), per_query
