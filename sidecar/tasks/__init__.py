"""Pluggable training tasks; importing this package registers the built-in ones."""

from .base import ModelSpec, Task, register, spec_from_json, state_of
from .digits import DigitsSpec, DigitsTask
from .teacher import TeacherStudentSpec, TeacherStudentTask

__all__ = ["ModelSpec", "Task", "register", "spec_from_json", "state_of", "DigitsSpec", "DigitsTask",
           "TeacherStudentSpec", "TeacherStudentTask", "make_task"]


def make_task(name: str, **kw: object) -> Task:
    """Build a built-in task by name (the coordinator's --task option)."""
    if name == "digits":
        return DigitsTask(**kw)  # type: ignore[arg-type]
    if name == "teacher":
        return TeacherStudentTask(**kw)  # type: ignore[arg-type]
    raise ValueError(f"unknown task {name!r}")
