"""The query answer passes the strict checks of the shared 1C stand-in (shared/tools/onec.py `sale`)."""

import importlib.util
import xml.dom.minidom
from email.message import Message
from pathlib import Path

import pytest

from exchange1c.sale.query import sale_query
from tests.factories import make_order, make_product


def _onec(shared):
    spec = importlib.util.spec_from_file_location("onec_tool", Path(shared, "tools", "onec.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("charset", ["windows-1251", "utf-8"])
@pytest.mark.parametrize("version", ["2.05", "2.08", "2.10", "3.1"])
def test_query_keeps_the_charset_promises_1c_checks(shared, sale_settings, charset, version):
    onec = _onec(shared)
    sale_settings.order_charset = charset
    sale_settings.order_schema_version = version
    product = make_product(name="Қазақ ә & <b> і ї є ґ")
    order = make_order(lines=[(product.variants.get(), 1)], comment="ғ")
    body, ctype = sale_query(session_key="s1", settings=sale_settings)
    headers = Message()
    headers["Content-Type"] = ctype
    result = onec.check_query_encoding(body, headers, True)  # raises ProtocolFault on a broken promise
    assert result["problems"] == []
    # Our own output, parsed the way the 1C stand-in parses it.
    root = xml.dom.minidom.parseString(body).documentElement  # noqa: S318
    assert root.localName == "КоммерческаяИнформация" and root.getAttribute("ВерсияСхемы") == version
    docs = root.getElementsByTagNameNS("*", "Документ")
    ids = [next(ch.firstChild.data for ch in d.childNodes if getattr(ch, "localName", None) == "Ид") for d in docs]
    assert ids == [str(order.public_id)]
