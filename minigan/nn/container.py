"""Sequential: a chain of modules, each fed the output of the one before."""
from collections import OrderedDict

from .module import Module


class Sequential(Module):
    """``Sequential(m0, m1, ...)`` (children named '0', '1', ...) or ``Sequential(OrderedDict(name=m, ...))``.

    ``forward(x)`` is ``m_last(...m1(m0(x)))``. Indexing gives a module (``net[0]``, ``net[-1]``)
    or, with a slice, a new Sequential sharing those modules; ``len`` and iteration work too.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        modules = list(self._modules.values())
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential: index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self
