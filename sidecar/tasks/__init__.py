"""Pluggable training tasks; importing this package registers the built-in ones."""

from .base import ModelSpec, Task, register, spec_from_json, state_of
from .digits import DigitsSpec, DigitsTask
from .teacher import TeacherStudentSpec, TeacherStudentTask

__all__ = ["ModelSpec", "Task", "register", "spec_from_json", "state_of", "DigitsSpec", "DigitsTask",
           "TeacherStudentSpec", "TeacherStudentTask", "make_task"]


def make_task(name: str, **kw: object) -> Task:
    """Build a task: "digits", "teacher", or "package.module:factory" for your own (the factory
    returns a Task; the module must also `register` its ModelSpec so miners can rebuild it)."""
    if ":" in name:
        import importlib

        module, _, factory = name.partition(":")
        task = getattr(importlib.import_module(module), factory)(**kw)
        if not isinstance(task, Task):
            raise TypeError(f"{name} did not return a Task")
        return task
    if name == "digits":
        return DigitsTask(**kw)  # type: ignore[arg-type]
    if name == "teacher":
        return TeacherStudentTask(**kw)  # type: ignore[arg-type]
    raise ValueError(f"unknown task {name!r}")
