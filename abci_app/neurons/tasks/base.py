"""The task plug-in interface and the loader.

A task is three things (Bittensor's "protocol + reward model + reference miner" in one class):

- an **input generator**: :meth:`Task.challenge` draws inputs and keeps the expected answers,
  which never leave the validator;
- a **scorer**: :meth:`Task.score` turns a miner's outputs into a quality in [0, 1], 0 for
  anything malformed (it never raises on a miner's answer);
- a **reference miner**: :meth:`Task.reference_miner` builds a model by name (trained at start),
  which ``neuron miner --model NAME`` serves.

Miners also call :meth:`Task.check_inputs` on what a validator sent before their model sees it.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

BUILTIN = {"digits": "abci_app.neurons.tasks.digits:DigitsTask"}

Model = Callable[[list[Any]], list[Any]]
"""A miner's model: the request's inputs (already checked) to its outputs, one per input."""


class TaskLoadError(Exception):
    """The task could not be found, imported or built (a missing extra, a bad spec)."""


@dataclass(frozen=True)
class Challenge:
    """Inputs sent to every miner of a round and what the validator expects back."""

    inputs: list[Any]
    expected: list[Any]


class Task(ABC):
    """Subclass this in one file to define a subnet's work."""

    name: ClassVar[str]
    """Sent in every request (``"task"``); an axon refuses requests for another task."""
    models: ClassVar[tuple[str, ...]]
    """Reference models ``neuron miner --model`` accepts; the first is the default."""
    max_inputs: ClassVar[int] = 256
    """Most inputs one request may carry (the axon refuses more)."""

    @abstractmethod
    def challenge(self, rng: random.Random, n: int) -> Challenge:
        """``n`` fresh inputs and their expected outputs, drawn from ``rng``."""

    @abstractmethod
    def score(self, challenge: Challenge, outputs: Any) -> float:
        """Quality of ``outputs`` (untrusted JSON from a miner) in [0, 1]; 0 when malformed."""

    @abstractmethod
    def check_inputs(self, inputs: Any) -> list[Any]:
        """Validate inputs (untrusted JSON from a caller); raise ``BadForwardRequest``."""

    @abstractmethod
    def reference_miner(self, model: str) -> Model:
        """Build (train) the named reference model; raise ``TaskLoadError`` for an unknown
        name."""


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise TaskLoadError(f"task file {path} does not exist")
    name = f"moderntensor_task_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TaskLoadError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_task(spec: str) -> Task:
    """A task by built-in name (``digits``), ``package.module:Class`` or ``file.py:Class``.

    Raises :class:`TaskLoadError` with a one-line reason (unknown name, import error, missing
    optional dependency, not a Task subclass)."""
    target = BUILTIN.get(spec, spec)
    where, sep, cls_name = target.rpartition(":")
    if not sep or not where or not cls_name:
        known = ", ".join(sorted(BUILTIN))
        raise TaskLoadError(f"unknown task {spec!r}: use {known}, module:Class or file.py:Class")
    try:
        if where.endswith(".py"):
            module = _load_file(Path(where))
        else:
            module = importlib.import_module(where)
    except ImportError as e:
        raise TaskLoadError(f"task {spec!r} needs {e.name or e}: {e}") from None
    cls = getattr(module, cls_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Task):
        raise TaskLoadError(f"{target} is not a Task subclass")
    try:
        return cls()
    except ImportError as e:
        raise TaskLoadError(f"task {spec!r} needs {e.name or e}: {e}") from None
