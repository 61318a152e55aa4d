"""What the services tell the open hall screens after a commit: which bloc, what kind of
change, which ids — never a choice, a name or a receipt. A screen re-reads what it shows
through the hall service. Telling is best effort: a use case never fails for it."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets

from bot.services.app import Services

log = logging.getLogger(__name__)
# A cast's confirmation waits for the telling: never longer than this (a Redis or PostgreSQL
# that stopped answering must not hold the person's answer).
TELL_TIMEOUT = 2.0


def hall_topic(bloc_id: int) -> str:
    return f"hall:{bloc_id}"


async def tell_screens(services: Services, bloc_id: int, kind: str, **ids: int) -> None:
    """`kind`: checkin, cast, opened, closed, cancelled, extended, decided (a tie decided by
    the secretariat), screen (a link revoked)."""
    # `v`: this event's stamp, made after the commit it tells of; the screens fetch their
    # part with it, so a hundred screens share one rendering (handlers/web/screen.py).
    stamp = {"v": secrets.token_hex(8)}
    message = json.dumps({"kind": kind, **ids, **stamp}, separators=(",", ":"))
    try:
        await asyncio.wait_for(
            services.broadcast.publish(hall_topic(bloc_id), message), TELL_TIMEOUT
        )
    except Exception as exc:  # a screen re-reads everything each minute anyway
        log.warning("hall screens not told of %s: %s", kind, type(exc).__name__)
