"""Progress bars (tqdm) for training, evaluation and the classifier: one way to make them.

On a terminal the bar redraws in place. When stderr is a file (a log of a long run), redrawing
would write one endless line of carriage returns, so the bar writes a whole line instead, at
every 5% of the work.
"""
from __future__ import annotations

import re
import sys
from typing import TextIO

from tqdm import tqdm


class _Lines:
    """A stream for tqdm that turns each redraw into a line of its own."""

    last: str | None  # what was written last: its count ("35/100 [") if it had one, else the line

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.last = stream, None

    def write(self, text: str) -> None:
        text = text.replace("\r", "").rstrip()
        count = re.search(r"\d+/\d+ \[", text)  # "35/100 [": closing redraws the last count, written once
        key = count.group() if count else text
        if text and key != self.last:
            self.stream.write(text + "\n")
            self.last = key

    def flush(self) -> None:
        self.stream.flush()


def progress_bar(total: int, initial: int = 0, desc: str | None = None, enabled: bool = True,
                 unit: str = "step") -> tqdm:
    """A tqdm bar over ``total`` units, starting at ``initial`` (a resumed run); off with ``enabled=False``."""
    stream = sys.stderr
    if stream is None or stream.isatty():
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True,
                    file=stream)
    return tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, file=_Lines(stream),
                ncols=200, mininterval=0, maxinterval=float("inf"), miniters=max(1, (total - initial) // 20))
