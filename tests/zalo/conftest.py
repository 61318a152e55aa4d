"""The secretariat's side of a Zalo test runs on Telegram: the handlers' `tg` harness."""

from tests.handlers.conftest import tg

__all__ = ["tg"]
