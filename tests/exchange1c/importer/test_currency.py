import pytest

from exchange1c.importer.currency import iso_currency


@pytest.mark.parametrize(("raw", "code"), [
    ("руб", "RUB"), ("руб.", "RUB"), ("RUR", "RUB"), ("643", "RUB"), (" Руб ", "RUB"), ("", "RUB"), (None, "RUB"),
    ("грн", "UAH"), ("980", "UAH"), ("тенге", "KZT"), ("тг", "KZT"), ("398", "KZT"), ("бел. руб", "BYN"),
    ("BYN", "BYN"), ("USD", "USD"), ("$", "USD"), ("€", "EUR"), ("eur", "EUR"), ("chf", "CHF"),
])
def test_known_names_map_to_iso(raw, code):
    assert iso_currency(raw) == (code, True)


def test_unknown_text_falls_back_and_says_so():
    assert iso_currency("у.е.") == ("RUB", False)
    assert iso_currency("пиастры", default="UAH") == ("UAH", False)
