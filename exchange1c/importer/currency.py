"""1C's currency names to ISO 4217 codes (PROTOCOL.md §3: `Валюта` may be `руб`, `грн`, `тенге` or a code).

1C writes whatever the currency's name is in its directory: a short Russian name, the
numeric ISO code (643), the letter code, or a sign.
"""

import re

_ALIASES = {
    # Russian rouble; RUR is the pre-1998 code 1C still writes in old configurations.
    "руб": "RUB", "руб.": "RUB", "рубль": "RUB", "рубли": "RUB", "рублей": "RUB", "р": "RUB", "р.": "RUB",
    "rur": "RUB", "rub": "RUB", "643": "RUB", "810": "RUB", "₽": "RUB", "российский рубль": "RUB",
    # Ukrainian hryvnia.
    "грн": "UAH", "грн.": "UAH", "гривна": "UAH", "гривня": "UAH", "980": "UAH", "₴": "UAH", "uah": "UAH",
    # Kazakh tenge.
    "тенге": "KZT", "тг": "KZT", "тг.": "KZT", "теңге": "KZT", "398": "KZT", "₸": "KZT", "kzt": "KZT",
    # Belarusian rouble (BYR before 2016).
    "бел. руб": "BYN", "бел. руб.": "BYN", "бел.руб": "BYN", "бел.руб.": "BYN", "белорусский рубль": "BYN",
    "byn": "BYN", "byr": "BYN", "933": "BYN", "974": "BYN",
    "usd": "USD", "$": "USD", "840": "USD", "долл": "USD", "долл.": "USD", "доллар": "USD", "доллар сша": "USD",
    "eur": "EUR", "€": "EUR", "978": "EUR", "евро": "EUR",
    "uzs": "UZS", "сум": "UZS", "860": "UZS",
    "kgs": "KGS", "сом": "KGS", "417": "KGS",
    "amd": "AMD", "драм": "AMD", "051": "AMD",
    "gel": "GEL", "лари": "GEL", "981": "GEL",
    "mdl": "MDL", "лей": "MDL", "498": "MDL",
    "cny": "CNY", "юань": "CNY", "156": "CNY", "¥": "CNY",
    "gbp": "GBP", "£": "GBP", "826": "GBP",
    "pln": "PLN", "злотый": "PLN", "985": "PLN",
}

_LETTERS = re.compile(r"^[A-Za-z]{3}$")


def iso_currency(raw: str | None, *, default: str = "RUB") -> tuple[str, bool]:
    """(ISO 4217 code, understood) for 1C's currency text.

    Empty text gives `default`, understood. Unknown three-letter text is kept uppercased (it
    probably is a code). Anything else gives `default` and False: the caller warns.
    """
    text = " ".join((raw or "").split())
    if not text:
        return default, True
    code = _ALIASES.get(text.lower())
    if code:
        return code, True
    if _LETTERS.match(text):
        return text.upper(), True
    return default, False
