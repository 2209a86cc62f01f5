"""Transliterated slugs for Russian, Ukrainian and Kazakh names.

Django's `slugify` drops Cyrillic, so "Чайник" would become "". We transliterate first
(a plain GOST-like table, readable by a Russian or Ukrainian customer), then slugify.
"""

import re

from django.utils.text import slugify

_TABLE = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian
    "є": "ye", "і": "i", "ї": "yi", "ґ": "g",
    # Kazakh and Belarusian letters a Russian-language catalog may carry
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "ў": "u",
}

MAX_SLUG_LENGTH = 200


#: str.translate's table (one C-level pass per name): each letter of _TABLE and its capital.
_TRANSLATION = {ord(variant): latin for letter, latin in _TABLE.items() for variant in {letter, letter.upper()}}


def transliterate(text: str) -> str:
    return text.translate(_TRANSLATION)


def slug_from_name(name: str, *, fallback: str = "item") -> str:
    """A URL slug for a name in any of the shop's languages; never empty."""
    slug = slugify(transliterate(name or ""))
    slug = re.sub(r"-{2,}", "-", slug).strip("-")[:MAX_SLUG_LENGTH].strip("-")
    return slug or fallback


def unique_slugs(names_by_key: dict, taken) -> dict:
    """Slugs for many new objects at once, unique against each other and against `taken`.

    `taken(candidates) -> set` answers which of the candidate slugs already exist (one
    query per call), so a batch of 1000 products costs one or two queries, not 1000.
    Returns {key: slug}.
    """
    base = {key: slug_from_name(name) for key, name in names_by_key.items()}
    result: dict = {}
    used: set = set()
    pending = dict(base)
    suffix = 1
    while pending:
        candidates = {key: (slug if suffix == 1 else f"{slug[:MAX_SLUG_LENGTH - 8]}-{suffix}")
                      for key, slug in pending.items()}
        existing = taken(set(candidates.values()))
        next_pending = {}
        for key, candidate in candidates.items():
            if candidate in existing or candidate in used:
                next_pending[key] = pending[key]
            else:
                used.add(candidate)
                result[key] = candidate
        pending = next_pending
        suffix += 1
    return result
