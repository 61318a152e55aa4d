"""Who is acting: the sender of an update, resolved to an identity with its memberships."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Account, Identity, Locale, Membership, Platform, Role
from bot.core.text import clean
from bot.services.app import Services
from bot.services.outcomes import Reason, Rejected
from storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Actor:
    identity: Identity
    account: Account
    memberships: tuple[Membership, ...]
    is_admin: bool

    @property
    def locale(self) -> Locale:
        return self.identity.locale

    def membership(self, bloc_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.bloc_id == bloc_id), None)

    def is_secretariat(self, bloc_id: int) -> bool:
        m = self.membership(bloc_id)
        return m is not None and m.has(Role.SECRETARIAT)

    @property
    def can_create_blocs(self) -> bool:
        """Bootstrap admins and anyone already on a secretariat may set up a bloc."""
        return self.is_admin or any(m.has(Role.SECRETARIAT) for m in self.memberships)

    @property
    def first_bloc_pending(self) -> bool:
        """A bootstrap admin with no bloc yet: the console opens on «new bloc» (on the web as
        in chat: the only way in for an admin who never uses Telegram)."""
        return self.is_admin and not self.memberships

    @property
    def current_bloc_id(self) -> int | None:
        """The bloc commands act on: the one chosen last, else the only one."""
        chosen = self.identity.current_bloc_id
        if chosen is not None and self.membership(chosen) is not None:
            return chosen
        if len(self.memberships) == 1:
            return self.memberships[0].bloc_id
        return None

    @property
    def roles(self) -> frozenset[Role]:
        """Roles held in the current bloc (or in any bloc when none is current)."""
        bloc_id = self.current_bloc_id
        if bloc_id is not None:
            m = self.membership(bloc_id)
            return m.roles if m else frozenset()
        return frozenset(r for m in self.memberships for r in m.roles)


async def load_actor(uow: UnitOfWork, services: Services, account: Account) -> Actor:
    identity = await uow.identities.by_account(account.platform, account.external_id)
    if identity is None:
        raise LookupError("unknown account")
    return Actor(
        identity=identity,
        account=account,
        memberships=tuple(await uow.identities.memberships(identity.id)),
        is_admin=account in services.admins,
    )


async def resolve_actor(
    services: Services,
    *,
    platform: Platform,
    external_id: str,
    display_name: str,
    username: str | None,
) -> Actor:
    """Find or create the identity behind a chat account (first contact registers nobody)."""
    name = clean(display_name)[:200] or (username or external_id)
    account = Account(platform, external_id)
    async with services.db.uow(read_only=True) as uow:
        # Every update passes here: a known account whose profile has not changed only reads.
        found = await uow.identities.sender(platform, external_id)
        if found is not None and (found[0].display_name, found[1], found[2]) == (
            name,
            username,
            False,
        ):
            return Actor(found[0], account, tuple(found[3]), account in services.admins)
    async with services.db.uow() as uow:
        identity = await uow.identities.by_account(platform, external_id)
        if identity is None:
            await uow.identities.create(
                platform=platform,
                external_id=external_id,
                display_name=name,
                username=username,
                locale=Locale.VI,
                now=services.clock.now(),
            )
        else:
            await uow.identities.refresh_profile(platform, external_id, name, username)
        actor = await load_actor(uow, services, account)
        await uow.commit()
    return actor


async def set_locale(services: Services, actor: Actor, locale: Locale) -> Locale:
    """Switch the language the bot speaks to this person."""
    async with services.db.uow() as uow:
        await uow.identities.set_locale(actor.identity.id, locale)
        await uow.commit()
    return locale


def secretariat_bloc(actor: Actor, bloc_id: int | None = None) -> int | Rejected:
    """The bloc a secretariat command acts on, or why it may not act."""
    target = bloc_id if bloc_id is not None else actor.current_bloc_id
    if target is None:
        if not actor.memberships:
            # A bootstrap admin before the first bloc: not "several blocs", but none yet.
            return Rejected(Reason.NO_BLOC_YET if actor.is_admin else Reason.NOT_SECRETARIAT)
        return Rejected(Reason.NO_BLOC)
    if not actor.is_secretariat(target):
        return Rejected(Reason.NOT_SECRETARIAT)
    return target
