"""Sequential: a chain of modules, each fed the output of the one before."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, overload

from ..tensor import Tensor
from .module import Module


class Sequential(Module):
    """``Sequential(m0, m1, ...)`` (children named '0', '1', ...) or ``Sequential(OrderedDict(name=m, ...))``.

    ``forward(x)`` is ``m_last(...m1(m0(x)))``. Indexing gives a module (``net[0]``, ``net[-1]``)
    or, with a slice, a new Sequential sharing those modules; ``len`` and iteration work too.
    """

    @overload
    def __init__(self, *args: Module) -> None: ...  # Sequential(m0, m1, ...)
    @overload
    def __init__(self, named: OrderedDict[str, Module], /) -> None: ...  # Sequential(OrderedDict(name=m, ...))

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input: Tensor) -> Tensor:
        for module in self:
            input = module(input)
        return input

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        modules = list(self._modules.values())
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential: index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self
