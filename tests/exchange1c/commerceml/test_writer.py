"""The order document writer: text built by hand, escaped and encoded as lxml would serialise it."""

import io
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from lxml import etree

from exchange1c.commerceml.writer import (
    COMMENT_MAX,
    Counterparty,
    DocumentLine,
    OrderDocument,
    OrderDocumentWriter,
    document_xml,
)

HARD = "A & B <c> \"d\" 'e' \r\n\t ә 😀 Ёлка"


def _doc(**fields) -> OrderDocument:
    cp = Counterparty(id="cp-1", name=HARD, last_name="Иванов", first_name="Иван", address=HARD, email="a@b.c",
                      phone="+7 900")
    line = DocumentLine(id="p#1", name=HARD, price=Decimal("10.5"), quantity=Decimal("1.500"),
                        total=Decimal("15.75"), article=HARD, unit_code=" 796 ", unit_name=HARD,
                        vat_rate=Decimal("20.00"), vat_amount=Decimal("2.63"), discount=Decimal("1"))
    values = {"id": "doc-1", "number": "100", "date": date(2025, 1, 2), "time": time(3, 4, 5), "currency": "RUB",
              "total": Decimal("16"), "counterparty": cp, "lines": [line], "comment": HARD,
              "requisites": [("Метод оплаты", HARD), ("", "skipped")]}
    values.update(fields)
    return OrderDocument(**values)


def test_document_text_is_what_lxml_serialises():
    text = document_xml(_doc())
    element = etree.fromstring(text)
    assert etree.tostring(element, encoding="unicode") == text


@pytest.mark.parametrize("charset", ["windows-1251", "UTF-8"])
def test_bytes_equal_lxml_serialisation_in_the_charset(charset):
    fh = io.BytesIO()
    with OrderDocumentWriter(fh, charset=charset, schema_version="3.1", formed_at=datetime(2025, 1, 2)) as writer:
        writer.write(_doc())
    body = fh.getvalue()
    root = etree.fromstring(body)
    (container,) = list(root)
    expected = etree.tostring(container, encoding=charset, xml_declaration=False, with_tail=False)
    # lxml writes the inherited namespace on a subtree it serialises alone; the writer relies on the root's.
    expected = expected.replace(b' xmlns="urn:1C.ru:commerceml_3"', b"")
    assert expected + b"\n" in body
    if charset == "windows-1251":
        assert b"&#1241;" in body and b"&#128512;" in body


def test_forbidden_characters_are_dropped_before_the_limit_counts():
    comment = "\x01\x02" + "x" * COMMENT_MAX + "tail"
    element = etree.fromstring(document_xml(_doc(comment=comment, number="1\x0b2")))
    assert element.findtext("Комментарий") == "x" * COMMENT_MAX
    assert element.findtext("Номер") == "12"
