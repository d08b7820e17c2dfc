"""minigan.backend: the allocator is left alone unless asked (`keep_freed_memory`)."""
import platform
import subprocess
import sys

import pytest

# Where an array's memory comes from, asked of glibc (mallinfo2) before and while it lives, in a
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
# a 4 MB block, freed: glibc's threshold rises to it, unless a setting has fixed the threshold
np.ones(1 << 20, dtype=np.float32)
for n in (1 << 20, 16 << 20):  # 4 MB again, then 64 MB
    before = mallinfo2().hblkhd
    block = np.ones(n, dtype=np.float32)
    print(mallinfo2().hblkhd - before)
    del block
"""


def mapped_bytes(mode):
    """The bytes mapped for a 4 MB block after one was freed, and for a 64 MB block."""
    done = subprocess.run([sys.executable, "-c", MAPPED_BYTES, mode], capture_output=True, text=True, check=True)
    return [int(line) for line in done.stdout.split()]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or tuple(map(int, platform.libc_ver()[1].split("."))) < (2, 33),
                    reason="mallopt's settings and mallinfo2 are glibc's (2.33 on)")
def test_import_leaves_malloc_alone_and_keep_freed_memory_keeps_large_blocks_in_the_heap():
    # import minigan: malloc as it comes, its threshold adapted to the freed 4 MB block (a setting made
    # at import would have fixed it at 128 KB), the 64 MB block a mapping of its own, unmapped on free
    small, large = mapped_bytes("import")
    assert small == 0 and large >= 64 << 20  # 64 MB and the mapping's own page
    assert mapped_bytes("keep") == [0, 0]  # opted in: both from the heap, which keeps them for the next step
