"""A GitHub load that reports, after each checkpoint, how its process allocates.

    python -m tests.checkpoint_memory WAREHOUSE
    python -m tests.checkpoint_memory --probe

runs `load_checkpoints("github", WAREHOUSE)` (configured by the SOURCES__* variables of its
environment) and prints one JSON line per checkpoint: whether the load has set glibc to map
large blocks (pipelines.ingest.memory_bounds) and the memory_limit of dlt's connection to the
stage. `--probe` prints whether a large block is mapped before and after
`map_large_blocks()`, in a process that has allocated little (the probe needs heaps with
little free space). Run in a child process: the allocator's settings are the process's own.
"""

from __future__ import annotations

import ctypes
import json
import sys

from pipelines.ingest.memory_bounds import MallInfo2, map_large_blocks

MIB = 1024 * 1024
_libc = ctypes.CDLL("libc.so.6")
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = (ctypes.c_size_t,)
_libc.free.argtypes = (ctypes.c_void_p,)
_libc.mallinfo2.restype = MallInfo2


def large_block_mapped() -> bool:
    """Whether a large block allocated after a larger one was freed is a mapping of its own
    (returned to the system when freed) rather than carved out of a heap, as glibc's default
    does: freeing a mapped block raises its threshold to the block's size (up to 32 MiB).
    The block is larger than all the free space the heaps hold, so they cannot serve it."""
    free = _libc.mallinfo2().fordblks
    size = max(free + MIB, 4 * MIB)
    assert 2 * size <= 32 * MIB, f"the heaps keep {free / MIB:.0f} MiB free: no probe fits"
    _libc.free(_libc.malloc(2 * size))
    mapped = _libc.mallinfo2().hblks
    block = _libc.malloc(size)
    try:
        return _libc.mallinfo2().hblks > mapped
    finally:
        _libc.free(block)


def load(warehouse: str) -> None:
    from pipelines.ingest.loads import load_checkpoints

    for n, (pipeline, counts) in enumerate(load_checkpoints("github", warehouse), 1):
        with pipeline.sql_client() as client:
            (limit,) = client.execute_sql("select current_setting('memory_limit')")[0]
        mapping = map_large_blocks.cache_info().currsize == 1 and map_large_blocks()
        line = {"checkpoint": n, "rows": counts, "large_blocks_mapped": mapping}
        print(json.dumps({**line, "stage_memory_limit": limit}), flush=True)


def probe() -> None:
    before = large_block_mapped()
    mapping = map_large_blocks()
    print(json.dumps({"before": before, "set": mapping, "after": large_block_mapped()}))


if __name__ == "__main__":
    probe() if sys.argv[1] == "--probe" else load(sys.argv[1])
