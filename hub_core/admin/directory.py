"""The hub's users as auth plugins see them (``hub.users``, the `hub_core.types.Users` contract): find,
create on first sign-in, map external identities, and make the `Caller` an auth plugin returns."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from tortoise.exceptions import IntegrityError

from hub_core.admin.users import create_user_with_did
from hub_core.db import models as m
from hub_core.errors import HubError, bad_request, unauthorized
from hub_core.types import Caller, HubUser, Role

#: roles an auth plugin may give a user it creates; an owner is made by the hub or by another owner
PLUGIN_ROLES = ("member", "admin")


def hub_user(row: m.User) -> HubUser:
    return HubUser(row.id, row.did, row.name, row.email, row.role, row.disabled)  # type: ignore[arg-type]


def identity_did(issuer: str, subject: str) -> str:
    """A stable DID for a user first seen through an external identity (the same on every instance)."""
    return "z" + hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:32]


class UserDirectory:
    """`hub_core.types.Users`, on the hub's database."""

    async def find(
        self,
        *,
        id: int | None = None,
        did: str | None = None,
        email: str | None = None,
        identity: tuple[str, str] | None = None,
    ) -> HubUser | None:
        given = [x for x in (id, did, email, identity) if x is not None]
        if len(given) != 1:
            raise ValueError("find() takes exactly one of id, did, email, identity")
        if identity is not None:
            issuer, subject = identity
            link = await m.UserIdentity.get_or_none(issuer=issuer, subject=subject).prefetch_related("user")
            return hub_user(link.user) if link is not None else None
        if id is not None:
            row = await m.User.get_or_none(id=id)
        elif did is not None:
            row = await m.User.get_or_none(did=did)
        else:
            row = await m.User.filter(email=email).order_by("id").first()
        return hub_user(row) if row is not None else None

    async def get_or_create(
        self, did: str, name: str, email: str | None = None, role: Role = "member"
    ) -> HubUser:
        if role not in PLUGIN_ROLES:
            raise bad_request(
                f"a plugin may create users with role {' or '.join(PLUGIN_ROLES)}", param="role"
            )
        if not did or len(did) > 100:
            raise bad_request("did is required (at most 100 characters)", param="did")
        row = await m.User.get_or_none(did=did)
        if row is None:
            try:
                row = await create_user_with_did(did, name, role, email)
            except IntegrityError:  # created by a concurrent first sign-in
                row = await m.User.get(did=did)
        return hub_user(row)

    async def link(self, issuer: str, subject: str, user: HubUser | int) -> HubUser:
        if not issuer or not subject or len(issuer) > 200 or len(subject) > 255:
            raise bad_request("issuer (at most 200 characters) and subject (at most 255) are required")
        user_id = user if isinstance(user, int) else user.id
        row = await m.User.get_or_none(id=user_id)
        if row is None:
            raise HubError(404, "not_found", f"User {user_id} not found")
        existing = await m.UserIdentity.get_or_none(issuer=issuer, subject=subject)
        if existing is None:
            try:
                await m.UserIdentity.create(user=row, issuer=issuer, subject=subject)
                return hub_user(row)
            except IntegrityError:
                existing = await m.UserIdentity.get(issuer=issuer, subject=subject)
        if existing.user_id != row.id:  # type: ignore[attr-defined]
            raise HubError(
                409, "identity_taken", f"The identity {subject!r} of {issuer!r} belongs to another user"
            )
        return hub_user(row)

    async def get_or_create_for_identity(
        self, issuer: str, subject: str, name: str, email: str | None = None, role: Role = "member"
    ) -> HubUser:
        found = await self.find(identity=(issuer, subject))
        if found is not None:
            return found
        user = await self.get_or_create(identity_did(issuer, subject), name, email, role)
        return await self.link(issuer, subject, user)

    async def search(
        self,
        *,
        name: str | None = None,
        ids: Iterable[int] | None = None,
        role: Role | None = None,
        limit: int = 1000,
    ) -> list[HubUser]:
        query = m.User.all()
        if name:
            query = query.filter(name__icontains=name)
        if ids is not None:
            query = query.filter(id__in=list(ids))
        if role is not None:
            query = query.filter(role=role)
        return [hub_user(row) for row in await query.order_by("id").limit(max(0, limit))]

    def caller(self, user: HubUser) -> Caller:
        if user.disabled:
            raise unauthorized(f"Unauthorized: user {user.name!r} is disabled")
        return Caller(user_id=user.id, user_did=user.did, name=user.name, role=user.role)
