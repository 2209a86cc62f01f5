"""Stage 1's look-up of the products and offers the site already holds exactly as the file has them.

Most of a full upload is what the previous one sent. Stage 1 compares each Товар and
Предложение with the source hash kept beside its row (apply.record_hash, the same digest
stage 2 would compute) and stages a two-field stand-in instead of the whole record for those
that match. Stage 2 then only moves their exchange mark, which is what "unchanged" means:
no parsing again, no unpickling of their properties and prices, no write but the mark.

The stand-ins keep the record's place in the file, so the job's position (`items_done`)
counts them as the items they replace and a resumed job skips exactly as before.

An Ид met a second time in the same file is never screened: its first occurrence may have
been a change applied just before, and the last occurrence must win as it does without
screening. Which Ид were met is kept in a fixed-size Bloom filter, so memory stays flat
whatever the file size; a false positive only means a record is applied the ordinary way.
"""

import hashlib

from exchange1c.commerceml.records import OfferRecord, ProductRecord
from exchange1c.importer import sqlbatch as sb
from exchange1c.importer.apply import (
    T_PRODUCT,
    T_VARIANT,
    UnchangedOffer,
    UnchangedProduct,
    record_hash,
    variant_external_id,
)


class SeenIds:
    """A Bloom filter of the Ид already met in this file (2^22 bits = 512 KB, 3 probes)."""

    BITS = 1 << 22

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS // 8)

    def _probes(self, key: str):
        digest = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=12).digest(), "little")
        mask = self.BITS - 1
        return digest & mask, (digest >> 32) & mask, (digest >> 64) & mask

    def add(self, key: str) -> bool:
        """Record `key`; True when it may have been met before (False: certainly new)."""
        met = True
        for bit in self._probes(key):
            byte, flag = bit >> 3, 1 << (bit & 7)
            if not self.bits[byte] & flag:
                met = False
                self.bits[byte] |= flag
        return met


class Screen:
    """Replaces unchanged products and offers of a file's records with their stand-ins, chunk by chunk."""

    def __init__(self, brand_key: str) -> None:
        self.brand_key = brand_key
        self.seen = SeenIds()

    def filter(self, records: list) -> list:
        """`records` in file order, with the unchanged products and offers replaced; reads the DB, writes nothing.

        Returns `records` itself when nothing was replaced (the records screened carry their digests).
        """
        products: dict[int, tuple[str, str]] = {}
        offers: dict[int, tuple[str, str]] = {}
        for index, record in enumerate(records):
            kind = type(record)
            if kind is ProductRecord:
                if "#" in record.external_id:
                    continue  # a characteristic sent as a Товар: apply.apply_products splits it
                if not self.seen.add("p:" + record.external_id):
                    products[index] = (record.external_id, record.digest or record_hash(record, self.brand_key))
            elif kind is OfferRecord:
                external_id = variant_external_id(record)
                if not self.seen.add("o:" + external_id):
                    offers[index] = (external_id, record.digest or record_hash(record))
        stand_ins: dict[int, object] = {}
        if products:
            rows = sb.select_map(T_PRODUCT, "external_id", [i for i, _h in products.values()], ("id", "source_hash"))
            for index, (external_id, digest) in products.items():
                row = rows.get(external_id)
                if row is not None and row[1] == digest:
                    stand_ins[index] = UnchangedProduct(pk=row[0], deleted=records[index].deleted)
                else:
                    _with_digest(records[index], digest)  # stage 2 needs it too
        if offers:
            rows = sb.select_map(T_VARIANT, "external_id", [i for i, _h in offers.values()],
                                 ("id", "source_hash", "reserved"))
            for index, (external_id, digest) in offers.items():
                row = rows.get(external_id)
                # A reservation is reset by the offer's stock (catalog.models.Variant), so it must apply.
                if row is not None and row[1] == digest and not row[2]:
                    stand_ins[index] = UnchangedOffer(pk=row[0])
                else:
                    _with_digest(records[index], digest)
        if not stand_ins:
            return records
        result = list(records)
        for index, stand_in in stand_ins.items():
            result[index] = stand_in
        return result


def _with_digest(record, digest: str) -> None:
    """The record carries its digest from here on. Set in place: the screen is the only holder of a
    record the reader just made, and a copy of each changed record (dataclasses.replace) cost a tenth
    of stage 1 on a first import."""
    object.__setattr__(record, "digest", digest)
