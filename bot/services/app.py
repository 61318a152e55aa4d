"""The services' shared dependencies, built once in the composition root."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.models import Account
from bot.core.ports import Clock, Notifier
from bot.render import Renderer
from storage.files import FileStore
from storage.uow import Database


@dataclass
class Services:
    db: Database
    clock: Clock
    notifier: Notifier
    renderer: Renderer
    audit_key: bytes
    ballot_secret: bytes  # BALLOT_SECRET: seals secret ballots; never stored, never logged
    files: FileStore
    admins: frozenset[Account] = frozenset()
    bot_username: str = ""
    # Invite codes come from here; the demo passes a seeded source to stay reproducible.
    token_bytes: Callable[[int], bytes] = field(default=secrets.token_bytes)
