"""Load a repository script that is not part of a package (bench/, datasets/) by its path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: Path, name: str, *, sibling_imports: bool = False) -> ModuleType:
    """Import the file at ``path`` as module ``name`` (registered in ``sys.modules``, which
    dataclasses need to find their module).

    ``sibling_imports`` puts the script's folder on ``sys.path`` while it runs, for scripts
    that import a neighbour (``bench/m3_ablation.py`` imports ``m3``).
    """
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.parent)
    if sibling_imports:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        if sibling_imports:
            sys.path.remove(folder)
    return module
