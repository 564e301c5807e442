"""Which language an item is written in: Dutch or English, the two Plein stems.

py3langid ships its model inside the package and classifies in well under a millisecond,
so detection runs for every item at index time. Text too short to tell is reported as
None and indexed under both languages.
"""

from __future__ import annotations

import re
from functools import lru_cache

LANGUAGES = {"nl": "dutch", "en": "english"}
"""Plein's languages, by ISO 639-1 code, with the name of their Tantivy stemmer."""
MIN_LETTERS = 12
SAMPLE_CHARS = 200
"""Dutch and English part within a sentence or two; reading more only costs index time
(py3langid walks the sample byte by byte in Python: most of an item's indexing time)."""
_ENOUGH_LETTERS = re.compile(rf"(?:[^\W\d_][\W\d_]*){{{MIN_LETTERS}}}")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str) -> str | None:
    """"nl" or "en", or None when the text is too short to tell."""
    sample = text[:SAMPLE_CHARS]
    if _ENOUGH_LETTERS.search(sample) is None:
        return None
    language, _score = _identifier().classify(sample)
    return language
