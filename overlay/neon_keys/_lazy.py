"""Names of a package loaded from its private modules on first use. Strictly private.

``import neon_keys`` (and the CLI's ``--help``) stays cheap, and ``neon_keys.testing`` can
be imported without the ``sandbox`` extra, because a name's module is imported only when
the name is first looked up.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

FIRST_USE_IMPORTS = threading.RLock()
"""Held around every import the library makes on first use, on any thread.

Python's import system takes one lock per module. Two threads importing, at once, a
package whose ``__init__`` imports its own submodules (the generated models) and one of
those submodules each hold a lock the other wants: one fails with a deadlock error, or
both wait for ever. A client shared by threads from its first call makes such imports
concurrently, so they all run under this one lock, one thread at a time. Once a module
is loaded the import finds it in ``sys.modules``; holding the lock then costs well under
a microsecond.
"""


def lazy_names(
    package: str, namespace: dict[str, Any], homes: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``.

    Args:
        package: the package's ``__name__``.
        namespace: its ``globals()``, where each name is kept once loaded.
        homes: relative module name -> the names it defines.
    """
    module_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        with FIRST_USE_IMPORTS:
            value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(module_of))

    return __getattr__, __dir__
