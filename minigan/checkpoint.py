"""Checkpoints as a single .npz file: written atomically, read without pickle.

A checkpoint holds a *tree*: nested dicts and lists whose leaves are arrays (or Tensors), numbers,
strings, booleans or None. The arrays are stored as the .npz's members; everything else goes
into one JSON member, ``__tree__``, which names the array members where they belong. Nothing is
pickled, so loading a checkpoint cannot run code.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from .tensor import Tensor

TREE_KEY = "__tree__"
FORMAT = "minigan-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupted, or does not fit what it is loaded into."""


def save(path: str | os.PathLike[str], tree: Any) -> None:
    """Write ``tree`` to ``path``: temporary file, flush, fsync, then an atomic rename.

    A crash at any moment leaves either the old file or the new one, never half of one.
    """
    arrays: dict[str, np.ndarray] = {}

    def encode(node: Any, key: str) -> Any:
        if isinstance(node, Tensor):
            node = node.numpy()
        if isinstance(node, np.ndarray) or (hasattr(node, "__array__") and not np.isscalar(node)):
            name = f"a{len(arrays)}"
            arrays[name] = np.asarray(node.get() if hasattr(node, "get") else node)
            return {"__array__": name}
        if isinstance(node, dict):
            return {"__dict__": [[str(k), encode(v, f"{key}/{k}")] for k, v in node.items()]}
        if isinstance(node, (list, tuple)):
            return [encode(v, f"{key}/{i}") for i, v in enumerate(node)]
        if isinstance(node, np.generic):
            return node.item()
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise TypeError(f"checkpoint.save: cannot store {type(node).__name__} at {key!r}")

    meta = json.dumps({"format": FORMAT, "tree": encode(tree, "")})
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            # Any: NumPy's stubs would check every **member against savez's one keyword, allow_pickle (a bool)
            members: dict[str, Any] = {TREE_KEY: np.array(meta), **arrays}
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def load(path: str | os.PathLike[str]) -> Any:
    """Read a tree written by `save`; a missing or damaged file raises CheckpointError."""
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz[TREE_KEY]))
            if meta.get("format") != FORMAT:
                raise CheckpointError(f"checkpoint {path}: unknown format {meta.get('format')!r}")

            def decode(node: Any) -> Any:
                if isinstance(node, dict):
                    if "__array__" in node:
                        return npz[node["__array__"]]
                    return {k: decode(v) for k, v in node["__dict__"]}
                if isinstance(node, list):
                    return [decode(v) for v in node]
                return node

            return decode(meta["tree"])
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise CheckpointError(f"checkpoint {path} is damaged or not a minigan checkpoint "
                              f"({type(error).__name__}: {error})") from None
