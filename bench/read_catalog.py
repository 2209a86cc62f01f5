"""Read CommerceML files with the streaming reader and print records/s and peak memory.

    .venv/bin/python bench/read_catalog.py /tmp/cml100k/import.xml /tmp/cml100k/offers.xml

Generate a catalog first (outside the repository), e.g.
`python3 ../shared/tools/gen_catalog.py --products 100000 --variants-share 0.3 --out /tmp/cml100k`.
No Django is involved. Peak RSS is the process's high-water mark (getrusage), so with several files
it is the largest so far, not per file.
"""

from __future__ import annotations

import argparse
import collections
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exchange1c.commerceml.reader import CommerceMLReader, sniff  # noqa: E402


def peak_rss_mib() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--skip", type=int, default=0, help="skip the first N products/offers")
    args = parser.parse_args(argv)

    for path in args.files:
        size_mib = path.stat().st_size / (1024 * 1024)
        started = time.perf_counter()
        info = sniff(path)
        sniff_s = time.perf_counter() - started

        started = time.perf_counter()
        cpu_started = time.process_time()
        reader = CommerceMLReader(path, skip=args.skip)
        counts: collections.Counter[str] = collections.Counter()
        for record in reader:
            counts[type(record).__name__] += 1
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started

        items = counts["ProductRecord"] + counts["OfferRecord"]
        total = sum(counts.values())
        print(f"{path}  {size_mib:.0f} MiB  kind={info.kind}  sniff {sniff_s * 1000:.1f} ms")
        print(f"  {', '.join(f'{name} {count}' for name, count in sorted(counts.items()))}")
        print(
            f"  wall {elapsed:.2f} s: {items / elapsed:,.0f} products+offers/s, "
            f"{total / elapsed:,.0f} records/s, {size_mib / elapsed:.1f} MiB/s"
        )
        # CPU time too: on a shared box wall time also measures the neighbours.
        print(
            f"  cpu {cpu:.2f} s: {items / cpu:,.0f} products+offers/s  warnings {reader.warning_count}  "
            f"peak RSS {peak_rss_mib():.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
