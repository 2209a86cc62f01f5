"""What the importer compares records by: each record's digest, and the stand-ins of unchanged ones.

No Django here: the read-ahead reader (readahead.py) computes digests in a process that never
sets Django up.
"""

import functools
import hashlib
import operator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UnchangedProduct:
    """Stands in for a Товар equal to the site's product `pk` (importer.screen); `deleted` is the file's mark."""

    pk: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class UnchangedOffer:
    """Stands in for a Предложение equal to the site's variant `pk`, with no reservation to reset."""

    pk: int


STAND_INS = (UnchangedProduct, UnchangedOffer)


@functools.cache
def _hashed_fields(cls):
    """A getter of the fields of a record type that are its data (not where it was in the file)."""
    return operator.attrgetter(*[n for n in cls.__slots__ if n not in ("line", "warnings", "digest")])


def record_hash(record, *extra) -> str:
    """A stable digest of a record's data (not its line number): equal digests mean nothing to write."""
    payload = repr((_hashed_fields(type(record))(record), extra))
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
