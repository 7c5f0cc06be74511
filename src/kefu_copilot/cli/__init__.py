"""The `kefu` command line. Only this package imports `cli`."""

from ._main import main

__all__ = ["main"]
