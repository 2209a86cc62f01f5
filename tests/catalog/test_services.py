"""catalog.services that need no database."""

import pytest

from catalog.services import unit_is_fractional, unit_short_name


@pytest.mark.parametrize(("code", "name", "expected"), [
    ("166", "кг", True), ("166 ", "", True), ("112", "л", True), ("6", "м", True), ("", "кг.", True),
    ("796", "шт", False), ("778", "упак", False), ("", "", False),
])
def test_unit_is_fractional(code, name, expected):
    assert unit_is_fractional(code=code, name=name) is expected


@pytest.mark.parametrize(("fields", "expected"), [
    ({"code": "796", "name": "шт", "intl_abbr": "PCE"}, "шт"),
    ({"code": "796", "intl_abbr": "PCE"}, "шт"),
    ({"code": "166 ", "full_name": "Килограмм", "intl_abbr": "KGM"}, "кг"),
    ({"code": "999", "full_name": "Бухта", "intl_abbr": "XX"}, "бухта"),
    ({"code": "999"}, "999"),
])
def test_unit_short_name_prefers_what_a_customer_reads(fields, expected):
    assert unit_short_name(**fields) == expected
