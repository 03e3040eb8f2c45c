"""What keeps a load's resident memory flat from one checkpoint to the next.

glibc's malloc serves a request of 128 KiB or more with a mapping of its own, unmapped when
it is freed, until the first such block is freed: then it raises that threshold to the
block's size (up to 32 MiB) and from there on carves large blocks out of its heaps, one per
thread that allocates, which keep what is freed. A load allocates large blocks all along:
response bodies and their parsed pages on the fan-out threads, and DuckDB's 256 KiB buffers in
the stage and the swap (DuckDB's Python package allocates through glibc on Linux). Freed, they
stayed in the heaps as free space too fragmented to give back, and the heaps grew with each
checkpoint's larger tables: measured, glibc's free-but-kept memory rose by about 25 MiB per
checkpoint and the resident size by 5 to 10 MiB (`benchmarks/memory.py`), so a backfill of 30
checkpoints peaked some 250 MiB above its first. `map_large_blocks` fixes the threshold
(`mallopt(M_MMAP_THRESHOLD)`, which turns the raising off): every large block is a mapping
again and goes back to the system when freed.

DuckDB's own working memory (its buffer pool over the stage's tables while dlt merges a
checkpoint, the swap's comparison of the stage with the warehouse) is bounded by
`DUCKDB_MEMORY_LIMIT` on every connection a load opens: DuckDB's default, 80% of the
machine's memory, lets its cache of table blocks grow with the tables. Within the bound
DuckDB evicts cached blocks and spills to a temporary directory beside the database file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# DuckDB's memory_limit on the stage's and the swap's connections. A checkpoint of five
# medium repositories (30,000 rows) needs about 100 MiB (measured); the bound leaves room for
# larger ones and keeps a load's peak well under 1 GiB whatever the warehouse's size.
DUCKDB_MEMORY_LIMIT = "256MiB"
# The settings of every DuckDB connection a load opens. Without insertion order to keep,
# DuckDB streams a load file into its table instead of buffering it whole, so that dlt's
# load jobs running side by side (one per table) stay within the bound; nothing reads the
# raw tables in the order their rows were written.
DUCKDB_LOAD_SETTINGS = {"memory_limit": DUCKDB_MEMORY_LIMIT, "preserve_insertion_order": False}

# glibc's default threshold, made fixed (mallopt's parameter number, from malloc.h).
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3


class MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (malloc.h): what its heaps hold, in bytes."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@functools.cache
def map_large_blocks() -> bool:
    """Serve every allocation of MMAP_THRESHOLD or more from a mapping of its own, from now
    on, in this process; True when set (glibc), False where malloc is another one."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
