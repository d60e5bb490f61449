"""Task plug-ins: what a subnet asks its miners and how answers are scored.

Built in: ``digits`` (:mod:`.digits`). A subnet owner adds a task in one file: subclass
:class:`.base.Task` and run miners and validators with ``--task path/to/file.py:ClassName`` (or
``package.module:ClassName``). See README "Run a subnet".
"""

from __future__ import annotations

from .base import Challenge, Task, TaskLoadError, load_task

__all__ = ["Challenge", "Task", "TaskLoadError", "load_task"]
