"""The chat harness of the handler tests, for scheduler tests that set a bloc up in chat."""

from tests.handlers.conftest import tg

__all__ = ["tg"]
