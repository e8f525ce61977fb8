"""Exceptions with keyword-only constructors, picklable.

Exception pickles itself as `cls(*self.args)`, which fails for the integrations' errors
(their constructors take keyword-only arguments), and Celery pickles a task's exception for
its result and log ("UnpickleableExceptionWrapper"). This rebuilds them from their
attributes instead."""

from __future__ import annotations


class PicklableError(Exception):
    def __reduce__(self):
        return (_rebuilt, (type(self), self.args, self.__dict__))


def _rebuilt(cls: type[Exception], args: tuple, attributes: dict) -> Exception:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(attributes)
    return error
