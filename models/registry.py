"""Load and save trained models as `models/<name>.v<N>/model.skops`, refusing types we did not expect.

skops, unlike pickle, only rebuilds the types it is told to trust; we trust scikit-learn, numpy, scipy and
our own `classifier` package, and nothing else, so a tampered file cannot run arbitrary code on load.
"""
from __future__ import annotations

import functools
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Final

import skops.io as sio
# the steps of sio.load, to build a file's tree once; private, so setup.cfg pins skops to 0.16.x
from skops.io._audit import audit_tree, get_tree
from skops.io._utils import read_schema

MODELS_DIR: Final = Path(__file__).resolve().parent
MODEL_FILE: Final = "model.skops"
METRICS_FILE: Final = "metrics.json"
CARD_FILE: Final = "MODEL_CARD.md"
TRUSTED_PREFIXES: Final = ("sklearn.", "numpy.", "scipy.", "classifier.", "builtins.", "collections.")
_VERSIONED: Final = re.compile(r"^(?P<name>[a-z_]+)\.v(?P<version>\d+)$")


class ModelNotFound(LookupError):
    """No trained artifact with that name (or version) exists."""


class UntrustedModel(ValueError):
    """The artifact contains types outside the trusted packages."""


def versions(name: str, root: Path = MODELS_DIR) -> list[int]:
    """The versions of `name` present under `root`, ascending."""
    found = []
    for path in root.glob(f"{name}.v*"):
        match = _VERSIONED.match(path.name)
        if match and match["name"] == name and (path / MODEL_FILE).exists():
            found.append(int(match["version"]))
    return sorted(found)


def resolve(ref: str, root: Path = MODELS_DIR) -> Path:
    """`category` -> the newest `category.vN` folder; `category.v2` -> exactly that one."""
    match = _VERSIONED.match(ref)
    if match:
        path = root / ref
        if not (path / MODEL_FILE).exists():
            raise ModelNotFound(f"no model {ref} in {root}")
        return path
    found = versions(ref, root)
    if not found:
        raise ModelNotFound(f"no model named {ref!r} in {root} (train it with `hotline train {ref}`)")
    return root / f"{ref}.v{found[-1]}"


def load(ref: str, root: Path = MODELS_DIR) -> Any:
    """A fitted model, after checking every type it contains is trusted; each file is read once per process.

    Fitted models are read-only (the scikit-learn contract: `predict` has no side effects), so the web app, the
    worker and every test of one process can share one copy; loading the misinformation model takes seconds.
    The key holds the file's size and modification time, so a retrained file is read again.
    """
    path = resolve(ref, root) / MODEL_FILE
    stat = path.stat()
    return _load_file(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _load_file(path: Path, mtime_ns: int, size: int) -> Any:
    # What `sio.get_untrusted_types` and then `sio.load(trusted=...)` do, with the file's tree built once
    # instead of twice (building it is half of a load: 3.5 of 7.7 s for the misinformation model on a busy
    # machine). The audit is skops' own: it refuses any type in the file that is neither trusted by skops'
    # defaults nor in the list that passed our prefix check.
    with zipfile.ZipFile(path, "r") as archive:
        schema, context = read_schema(archive)
        tree = get_tree(schema, context, trusted=None)
        untrusted = sorted(tree.get_unsafe_set())
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise UntrustedModel(f"{path} contains untrusted types: {', '.join(sorted(refused))}")
        audit_tree(tree, trusted=untrusted)
        return tree.construct()


def save(model: Any, name: str, *, metrics: dict[str, Any], card: str, root: Path = MODELS_DIR,
         version: int | None = None) -> Path:
    """Write `model`, its metrics and its card as the next version of `name` (or the version given)."""
    if version is None:
        version = (versions(name, root) or [0])[-1] + 1
    path = root / f"{name}.v{version}"
    path.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    (path / METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    (path / CARD_FILE).write_text(card)
    return path


def read_metrics(ref: str, root: Path = MODELS_DIR) -> dict[str, Any]:
    """The metrics recorded when the model was trained."""
    data: dict[str, Any] = json.loads((resolve(ref, root) / METRICS_FILE).read_text())
    return data
