"""PostgreSQL's product search entries (catalog.models.ProductSearch): how they are computed and kept.

The document is computed by the database from the product's own columns, so every writer
(the import, the admin, the demo) gets the same one; SQLite has no full-text search here and
keeps no entries (its search reads Product.search_text).
"""

from collections.abc import Iterable

from django.db import connection

from catalog.models import Product, ProductSearch
from catalog.services import chunked
from catalog.sql import in_values

#: The weighted document of a catalog_product row `p`: the name and full name through the
#: Russian stemmer; articles and barcodes, which no stemmer knows, as plain words (and the
#: folded text, so a word differing only in case or ё still matches).
DOCUMENT_SQL = (
    "setweight(to_tsvector('russian'::regconfig, COALESCE(p.name, '')), 'A')"
    " || setweight(to_tsvector('russian'::regconfig, COALESCE(p.full_name, '')), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, COALESCE(p.article, '') || ' ' || COALESCE(p.barcode, '')"
    " || ' ' || COALESCE(p.search_text, '')), 'A')"
)
CHUNK = 500


def enabled() -> bool:
    return connection.vendor == "postgresql"


def refresh(product_ids: Iterable[int]) -> None:
    """Recompute the search entries of these products from their rows (PostgreSQL; a no-op elsewhere).

    Call it after writing a product's name, full name, article, barcode or search_text. An
    entry whose text and document come out the same is not rewritten.
    """
    if not enabled():
        return
    q = connection.ops.quote_name
    entry, product = q(ProductSearch._meta.db_table), q(Product._meta.db_table)
    with connection.cursor() as cursor:
        for part in chunked(dict.fromkeys(product_ids), CHUNK):
            # Table names from _meta, ids as one array parameter: what S608 cannot see.
            ids, params = in_values("p.id", part)
            cursor.execute(
                f"INSERT INTO {entry} (product_id, document, text) "  # noqa: S608
                f"SELECT p.id, {DOCUMENT_SQL}, p.search_text FROM {product} p WHERE {ids} "
                f"ON CONFLICT (product_id) DO UPDATE SET document = excluded.document, text = excluded.text "
                f"WHERE {entry}.text IS DISTINCT FROM excluded.text "
                f"OR {entry}.document IS DISTINCT FROM excluded.document",
                params,
            )
