"""Records read from a file, kept on disk between reading it and applying it.

A staged file is a sequence of frames, each a 4-byte length and one pickled chunk (a list of
at most `CHUNK` records, all products/offers or all classifier records), so memory stays flat
whatever the file's size. The frame is the unit of reuse: a chunk read ahead in another process
(readahead.py) that stage 1 did not change is copied into the job's staging as its bytes,
without unpickling into a new pickle.

Written under a temporary name and renamed once complete, so a reader only ever sees a whole
staging of a file that passed; a worker presumed dead writes its own part file and never
corrupts another's.
"""

import dataclasses
import io
import operator
import os
import pickle
import struct
from pathlib import Path

from exchange1c.commerceml import records as record_types
from exchange1c.importer.digests import STAND_INS

#: Records per chunk (frame).
CHUNK = 500
_LENGTH = struct.Struct("<I")

#: How the reader's records pickle: (class, field values) instead of dataclasses' per-object
#: state dicts, 2-3x faster both ways.
_RECORD_CLASSES = [cls for cls in vars(record_types).values()
                   if isinstance(cls, type) and dataclasses.is_dataclass(cls)] + list(STAND_INS)


def _reducer(cls):
    fields = operator.attrgetter(*[f.name for f in dataclasses.fields(cls)])
    if len(dataclasses.fields(cls)) == 1:
        return lambda record: (cls, (fields(record),))
    return lambda record: (cls, fields(record))


_PICKLE_TABLE = {cls: _reducer(cls) for cls in _RECORD_CLASSES}


class _Pickler(pickle.Pickler):
    dispatch_table = _PICKLE_TABLE


def dumps(chunk: list) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(chunk)
    return buffer.getvalue()


def loads(frame: bytes) -> list:
    # Our own files, written by this server in its private jobs folder.
    return pickle.loads(frame)  # noqa: S301


class Writer:
    """Frames into `<target>.<token>.part`; `commit()` renames it to `target`."""

    def __init__(self, target: Path, token: str) -> None:
        self.target = Path(target)
        self.part = self.target.with_name(f"{self.target.name}.{token}.part")
        self.file = open(self.part, "wb")  # noqa: SIM115 - closed by commit()/discard()

    def add(self, chunk: list) -> None:
        """One chunk of records (at most CHUNK) as a frame."""
        if chunk:
            self.add_frame(dumps(chunk))

    def add_frame(self, frame: bytes) -> None:
        self.file.write(_LENGTH.pack(len(frame)))
        self.file.write(frame)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.part, self.target)

    def discard(self) -> None:
        self.file.close()
        self.part.unlink(missing_ok=True)


def frames(path: Path):
    """The frames of a staged file, in order."""
    with open(path, "rb") as file:
        while True:
            head = file.read(_LENGTH.size)
            if not head:
                return
            if len(head) < _LENGTH.size:
                raise EOFError(f"{path}: cut inside a frame's length")
            size = _LENGTH.unpack(head)[0]
            frame = file.read(size)
            if len(frame) < size:
                raise EOFError(f"{path}: cut inside a frame")
            yield frame


def records(path: Path):
    """The records of a staged file, in order."""
    for frame in frames(path):
        yield from loads(frame)


def chunks(source, size: int = CHUNK):
    """`source`'s records as lists of at most `size`, each all products/offers or all classifier records."""
    chunk: list = []
    items = None
    for record in source:
        is_item = type(record) in _ITEM_TYPES
        if chunk and (is_item is not items or len(chunk) >= size):
            yield chunk
            chunk = []
        chunk.append(record)
        items = is_item
    if chunk:
        yield chunk


_ITEM_TYPES = frozenset({record_types.ProductRecord, record_types.OfferRecord})
