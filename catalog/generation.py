"""The catalog generation: a value that changes whenever what the storefront lists changes.

The storefront's listing caches (counts, brand facets, page ids) are keyed on it. Single-row
saves and deletes change it through signals (connected in CatalogConfig.ready()); bulk
writers, which send no signals (the 1C import, offer_summaries_refresh, group_paths_rebuild),
call catalog_changed() when they finish.
"""

import time

from catalog.models import CatalogGeneration

GENERATION_PK = 1


def catalog_generation() -> int:
    """The current generation: one primary-key query, the same in every server process."""
    value = CatalogGeneration.objects.filter(pk=GENERATION_PK).values_list("value", flat=True).first()
    return value or 0


def catalog_changed(**_signal_kwargs) -> None:
    """Start a new generation (also a post_save/post_delete receiver).

    A fresh time-based value rather than a counter: a restored database backup must not
    count up again into generations whose cached listings some process may still hold.
    """
    value = time.time_ns()
    if not CatalogGeneration.objects.filter(pk=GENERATION_PK).update(value=value):
        CatalogGeneration.objects.get_or_create(pk=GENERATION_PK, defaults={"value": value})
