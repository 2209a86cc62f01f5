"""catalog.slugs: readable Latin slugs for Russian, Ukrainian and Kazakh names."""

import pytest

from catalog.slugs import slug_from_name, transliterate, unique_slugs


@pytest.mark.parametrize(("name", "slug"), [
    ("Чайник электрический", "chaynik-elektricheskiy"),
    ("ЁЛКА Щётка", "yolka-shchyotka"),
    ("Її Ґанок Єдність", "yiyi-ganok-yednist"),
    ("Қазақ Әже Өрік Ұн Үй", "kazak-azhe-orik-un-uy"),
    ('Ноутбук MSI 14" 32 ГБ/512 ГБ', "noutbuk-msi-14-32-gb512-gb"),
    ("   ", "item"),
])
def test_slug_from_name(name, slug):
    assert slug_from_name(name) == slug


def test_transliterate_keeps_what_it_does_not_know_and_folds_capitals():
    assert transliterate("Объём № 5, İ ß") == "obyom № 5, İ ß"


def test_unique_slugs_number_the_repeats_and_avoid_what_is_taken():
    slugs = unique_slugs({1: "Чайник", 2: "Чайник", 3: "Утюг"}, lambda candidates: {"chaynik"} & candidates)
    assert slugs == {1: "chaynik-2", 2: "chaynik-3", 3: "utyug"}
