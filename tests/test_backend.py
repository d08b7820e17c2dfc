"""minigan.backend: the allocator is left alone unless asked (`keep_freed_memory`)."""
import platform
import subprocess
import sys

import pytest

# Where a 64 MB array's memory comes from, asked of glibc (mallinfo2) before and while it lives, in a
# fresh process whose allocator no test has changed: a mapping of its own (``hblkhd``), which glibc
# unmaps on free so that the next one's pages are zero-filled anew, or the heap, which keeps it.
MAPPED_BYTES = """
import ctypes, sys
import numpy as np
import minigan
from minigan import backend


class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


if sys.argv[1] == "keep":
    assert backend.keep_freed_memory()
mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
mallinfo2.restype = Mallinfo2
before = mallinfo2().hblkhd
block = np.ones(16 << 20, dtype=np.float32)
print(mallinfo2().hblkhd - before)
"""


def mapped_bytes(mode):
    done = subprocess.run([sys.executable, "-c", MAPPED_BYTES, mode], capture_output=True, text=True, check=True)
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or tuple(map(int, platform.libc_ver()[1].split("."))) < (2, 33),
                    reason="mallopt's settings and mallinfo2 are glibc's (2.33 on)")
def test_import_leaves_malloc_alone_and_keep_freed_memory_keeps_large_blocks_in_the_heap():
    assert mapped_bytes("import") >= 64 << 20  # import minigan: the block is a mapping, unmapped on free
    assert mapped_bytes("keep") == 0  # opted in: it comes from the heap, which keeps it for the next one
