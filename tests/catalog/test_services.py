"""catalog.services that need no database."""

import pytest

from catalog.services import unit_is_fractional


@pytest.mark.parametrize(("code", "name", "expected"), [
    ("166", "кг", True), ("166 ", "", True), ("112", "л", True), ("6", "м", True), ("", "кг.", True),
    ("796", "шт", False), ("778", "упак", False), ("", "", False),
])
def test_unit_is_fractional(code, name, expected):
    assert unit_is_fractional(code=code, name=name) is expected
