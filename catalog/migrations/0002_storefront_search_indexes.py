"""Indexes for storefront search, different per database (no model state changes).

PostgreSQL: a GIN index on exactly the full-text document catalog.selectors.search_document()
builds (the planner only uses an expression index whose expression matches the query's), and
a trigram GIN index on search_text for the substring match of partial articles (pg_trgm is a
trusted extension; where it cannot be created the substring match just scans).
SQLite: search is a substring scan of search_text; an index on (search_text, is_active, name)
lets that scan, and the sort by name, read the narrow index instead of the wide table rows.
"""

from django.db import DatabaseError, migrations, transaction

DOCUMENT = (
    "((setweight(to_tsvector('russian'::regconfig, COALESCE(name, '')), 'A')"
    " || setweight(to_tsvector('russian'::regconfig, COALESCE(full_name, '')), 'B'))"
    " || setweight(to_tsvector('simple'::regconfig, COALESCE(article, '') || ' ' || COALESCE(barcode, '')"
    " || ' ' || COALESCE(search_text, '')), 'A'))"
)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS product_search_document ON catalog_product USING gin ({DOCUMENT})"
        )
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError:
            return  # not installed or not allowed: the substring match scans, still correct
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS product_search_text_trgm ON catalog_product"
            " USING gin (search_text gin_trgm_ops)"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS product_search_text ON catalog_product (search_text, is_active, name)"
        )


def backwards(apps, schema_editor):
    for name in ("product_search_document", "product_search_text_trgm", "product_search_text"):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
