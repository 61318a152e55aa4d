"""The web companion's sign-in links and sessions (`web_signin`, `web_session`), and the hall
screen's links (`hall_screen`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.models import Account, Platform
from storage.tables import HallScreenRow, WebSessionRow, WebSignInRow


@dataclass(frozen=True, slots=True)
class SignInLink:
    identity_id: int
    account: Account
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebSession:
    id: int
    identity_id: int
    account: Account
    csrf: str
    mini_app: bool
    created_at: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class ScreenLink:
    bloc_id: int
    conference_id: int
    expires_at: datetime
    revoked_at: datetime | None


def _session(row: WebSessionRow) -> WebSession:
    assert row.id is not None
    return WebSession(
        row.id,
        row.identity_id,
        Account(Platform(row.platform), row.external_id),
        row.csrf,
        row.mini_app,
        row.created_at,
        row.last_seen,
    )


class WebRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add_signin(
        self,
        token_hash: str,
        identity_id: int,
        account: Account,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.s.add(
            WebSignInRow(
                token_hash=token_hash,
                identity_id=identity_id,
                platform=account.platform.value,
                external_id=account.external_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        await self.s.flush()

    async def signin(self, token_hash: str) -> SignInLink | None:
        row = (
            await self.s.exec(
                select(WebSignInRow).where(col(WebSignInRow.token_hash) == token_hash)
            )
        ).first()
        if row is None:
            return None
        return SignInLink(
            row.identity_id,
            Account(Platform(row.platform), row.external_id),
            row.expires_at,
            row.used_at,
        )

    async def use_signin(self, token_hash: str, now: datetime) -> SignInLink | None:
        """Mark the link used, in one statement: of two redemptions at once, one wins."""
        done = await self.s.exec(
            update(WebSignInRow)
            .where(
                col(WebSignInRow.token_hash) == token_hash,
                col(WebSignInRow.used_at).is_(None),
                col(WebSignInRow.expires_at) > now,
            )
            .values(used_at=now)
            .returning(
                col(WebSignInRow.identity_id),
                col(WebSignInRow.platform),
                col(WebSignInRow.external_id),
                col(WebSignInRow.expires_at),
            )
        )
        found = done.first()
        if found is None:
            return None
        identity_id, platform, external_id, expires_at = found
        return SignInLink(identity_id, Account(Platform(platform), external_id), expires_at, now)

    async def forget_signins(self, before: datetime) -> None:
        """Links expired long ago are of no use even to say "expired"."""
        await self.s.exec(delete(WebSignInRow).where(col(WebSignInRow.expires_at) < before))

    async def add_session(
        self,
        token_hash: str,
        identity_id: int,
        account: Account,
        csrf: str,
        now: datetime,
        *,
        mini_app: bool,
    ) -> None:
        self.s.add(
            WebSessionRow(
                token_hash=token_hash,
                identity_id=identity_id,
                platform=account.platform.value,
                external_id=account.external_id,
                csrf=csrf,
                mini_app=mini_app,
                created_at=now,
                last_seen=now,
            )
        )
        await self.s.flush()

    async def session(self, token_hash: str) -> WebSession | None:
        row = (
            await self.s.exec(
                select(WebSessionRow).where(col(WebSessionRow.token_hash) == token_hash)
            )
        ).first()
        return None if row is None else _session(row)

    async def touch(self, session_id: int, now: datetime) -> None:
        await self.s.exec(
            update(WebSessionRow).where(col(WebSessionRow.id) == session_id).values(last_seen=now)
        )

    async def end_session(self, token_hash: str) -> None:
        await self.s.exec(delete(WebSessionRow).where(col(WebSessionRow.token_hash) == token_hash))

    async def end_sessions_of(self, identity_id: int) -> int:
        """Every session of the person (signed in from any of their accounts)."""
        done = await self.s.exec(
            delete(WebSessionRow)
            .where(col(WebSessionRow.identity_id) == identity_id)
            .returning(col(WebSessionRow.id))
        )
        return len(done.all())

    async def end_stale(self, idle_before: datetime, created_before: datetime) -> None:
        await self.s.exec(
            delete(WebSessionRow).where(
                (col(WebSessionRow.last_seen) < idle_before)
                | (col(WebSessionRow.created_at) < created_before)
            )
        )

    # --- the hall screen's links ----------------------------------------------------------

    async def add_screen(
        self,
        token_hash: str,
        *,
        bloc_id: int,
        conference_id: int,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self.s.add(
            HallScreenRow(
                token_hash=token_hash,
                bloc_id=bloc_id,
                conference_id=conference_id,
                created_by=created_by,
                created_at=now,
                expires_at=expires_at,
            )
        )
        await self.s.flush()

    async def screen(self, token_hash: str) -> ScreenLink | None:
        row = (
            await self.s.exec(
                select(HallScreenRow).where(col(HallScreenRow.token_hash) == token_hash)
            )
        ).first()
        if row is None:
            return None
        return ScreenLink(row.bloc_id, row.conference_id, row.expires_at, row.revoked_at)

    async def live_screens(self, conference_id: int, now: datetime) -> int:
        """How many links of the conference's screen show it now."""
        rows = await self.s.exec(
            select(col(HallScreenRow.id)).where(
                col(HallScreenRow.conference_id) == conference_id,
                col(HallScreenRow.revoked_at).is_(None),
                col(HallScreenRow.expires_at) > now,
            )
        )
        return len(rows.all())

    async def revoke_screens(self, conference_id: int, now: datetime) -> int:
        """Every live link of the conference's screen ends now; returns how many there were."""
        done = await self.s.exec(
            update(HallScreenRow)
            .where(
                col(HallScreenRow.conference_id) == conference_id,
                col(HallScreenRow.revoked_at).is_(None),
                col(HallScreenRow.expires_at) > now,
            )
            .values(revoked_at=now)
            .returning(col(HallScreenRow.id))
        )
        return len(done.all())
