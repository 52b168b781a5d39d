"""What the server's Python heap gained between two moments, by file:line and by type.

    python bench/memory_diff.py OLD.snap NEW.snap [--top 25]

The two files are tracemalloc snapshots the server wrote under ``STUDIO_MEMORY_DEBUG=FILE`` with
``STUDIO_MEMORY_TRACE=1`` (``python bench/bench_load.py --browse-first --memory-log FILE --trace`` keeps
FILE.floor.snap, the libraries loaded, and FILE.snap, the last check). Next to each, FILE[.floor].types.json
gives every Python type's count: their difference is printed too, and the non-Python figures of the JSON
lines (glibc's heap, Arrow's pool, Streamlit's caches) at the two moments when FILE is given with --log.
"""

from __future__ import annotations

import argparse
import json
import tracemalloc
from pathlib import Path


def heap_diff(old: Path, new: Path, top: int = 25, key: str = "lineno") -> list[tuple[str, float, int]]:
    """The ``top`` places whose traced memory changed most: (``file:line``, MB gained, blocks gained)."""
    before, after = tracemalloc.Snapshot.load(str(old)), tracemalloc.Snapshot.load(str(new))
    rows = []
    for stat in after.compare_to(before, key)[:top]:
        frame = stat.traceback[0]
        where = f"{frame.filename}:{frame.lineno}" if key == "lineno" else frame.filename
        rows.append((where, stat.size_diff / 2**20, stat.count_diff))
    return rows


def type_diff(old: Path, new: Path, top: int = 25) -> list[tuple[str, int]]:
    """The ``top`` Python types whose object count changed most, by absolute change."""
    before, after = json.loads(old.read_text()), json.loads(new.read_text())
    diff = {t: after.get(t, 0) - before.get(t, 0) for t in set(before) | set(after)}
    return sorted(((t, d) for t, d in diff.items() if d), key=lambda td: -abs(td[1]))[:top]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    total = [sum(s.size for s in tracemalloc.Snapshot.load(str(p)).statistics("filename")) / 2**20
             for p in (args.old, args.new)]
    print(f"Python heap traced: {total[0]:.1f} MB -> {total[1]:.1f} MB ({total[1] - total[0]:+.1f} MB)")
    for key in ("filename", "lineno"):
        print(f"\nby {'file' if key == 'filename' else 'file:line'} (MB gained, blocks gained):")
        for where, mb, count in heap_diff(args.old, args.new, args.top, key):
            print(f"  {mb:+8.2f} {count:+9d}  {where[-110:]}")
    types = [p.with_name(p.name.removesuffix(".snap") + ".types.json") for p in (args.old, args.new)]
    if all(p.exists() for p in types):
        print("\nPython objects by type (count gained):")
        for name, d in type_diff(*types, top=args.top):
            print(f"  {d:+9d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
