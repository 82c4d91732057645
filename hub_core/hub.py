"""The running hub: settings, plugins, state, upstream client, usage writer and gateway, with their lifecycle.

One `Hub` per app; `create_app()` builds it and Quart's serving hooks start and stop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable
from importlib.metadata import EntryPoint
from typing import Any

import structlog
from tortoise.context import TortoiseContext

from hub_core import db
from hub_core.admin.directory import UserDirectory
from hub_core.config import Settings
from hub_core.db import audit
from hub_core.default_plugins import (
    DefaultRoutingPlugin,
    KeyAuthPlugin,
    OpenAICompatiblePlugin,
    ProviderUpstreamPlugin,
    UsageLogPlugin,
)
from hub_core.infra.crypto import Keyring, mask
from hub_core.infra.files import private_tree
from hub_core.infra.plugin_host import PluginHost
from hub_core.infra.upstream import UpstreamClient
from hub_core.pipeline.gateway import Gateway
from hub_core.routing.catalog import ModelCatalog
from hub_core.routing.health import ProviderHealth
from hub_core.runtime.instance import InstanceSlot
from hub_core.runtime.state import RuntimeState
from hub_core.types import AuditActor
from hub_core.usage.writer import UsageLogWriter

log = structlog.get_logger("hub_core.hub")


def build_plugin_host(settings: Settings, entry_points: Iterable[EntryPoint] | None = None) -> PluginHost:
    """Entry-point plugins only (what the CLI needs to list and validate names)."""
    host = PluginHost()
    host.load_entry_points(entry_points, settings.load_plugins)
    return host


class Hub:
    def __init__(
        self,
        settings: Settings,
        entry_points: Iterable[EntryPoint] | None = None,
        plugins: Iterable[tuple[str, object]] = (),
    ) -> None:
        """`plugins`: extra (name, plugin object) pairs registered after the entry points, as if installed
        (embedding and tests)."""
        self.settings = settings
        private_tree(settings.data_dir)
        self.keyring = Keyring.load(settings.secret_key, settings.key_file)
        self.host = build_plugin_host(settings, entry_points)
        for name, plugin in plugins:
            self.host.register_object(name, plugin)
        self.host.offer(hub=self, settings=settings)  # to every hook call
        self.state = RuntimeState(settings, self.keyring)
        #: `hub_core.types.Users`: what auth plugins use to find, create and map users
        self.users = UserDirectory()
        self.upstream = UpstreamClient(settings)
        self.health = ProviderHealth(settings, self.host, self.state, self.upstream)
        self.writer = UsageLogWriter(settings)
        self.routing = DefaultRoutingPlugin(self.host, self.state, self.health)
        self.host.register_builtin("key_auth", KeyAuthPlugin(self.state))
        self.host.register_builtin("default_routing", self.routing)
        self.host.register_builtin("provider_upstream", ProviderUpstreamPlugin())
        self.host.register_builtin("usage_log", UsageLogPlugin(self.writer))
        self.host.register_builtin("openai_compatible", OpenAICompatiblePlugin(self.host, self.state))
        self.host.run_registrations()
        self.gateway = Gateway(settings, self.host, self.state, self.upstream, self.health)
        self.gateway.usage_written = self.writer.watch
        self.slot = InstanceSlot(settings.data_dir)
        self.catalog = ModelCatalog(self.host, self.routing, self.upstream)
        self.routing.bare.listed = self.catalog.cached  # bare-model routing reads the upstream lists
        self.state.on_reload(lambda st: self.host.set_disabled(st.disabled_plugins))
        self.state.on_reload(lambda st: setattr(self.host, "stored_config", st.plugin_config))
        self.state.on_reload(lambda _st: self.catalog.invalidate())
        self._poller: asyncio.Task[None] | None = None
        self.db: TortoiseContext | None = None
        self.initial_admin_key: str | None = None

    def plugin_config(self, name: str) -> dict[str, Any]:
        """`HubAPI.plugin_config`: plugin `name`'s effective settings."""
        return self.host.config(name)

    async def audit(
        self,
        action: str,
        target_type: str,
        target_id: object | None,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        actor: AuditActor | None = None,
    ) -> None:
        """`HubAPI.audit`: a plugin's admin change, recorded as the core records its own."""
        await audit.record(actor, action, target_type, target_id, before=before, after=after)

    async def start(self) -> None:
        apps = self.host.database_apps()
        await db.upgrade(self.settings, apps)
        self.db = await db.connect(self.settings, apps)
        self.initial_admin_key = await initialize_owner(
            announce=self.settings.announce_admin_key, admin_key=self.settings.admin_key
        )
        await self.state.reload()
        await self.writer.start()  # re-imports spilled rows, which recovery charges from
        self.gateway.billing.call_prefix = self.slot.acquire()
        await self.gateway.billing.start()  # recovers the holds an earlier run in this slot left open
        await self.health.start()
        self._poller = asyncio.create_task(self._poll(), name="state-poller")
        await self.gateway.hooks.on_startup()
        log.info("hub started", plugins=len(self.host.infos), providers=sorted(self.host.enabled_providers()))

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.state_poll_interval)
            try:
                await self.state.poll()
            except Exception as exc:  # the database may be briefly unavailable; keep serving from memory
                log.warning("state poll failed", error=f"{type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        await self.gateway.hooks.on_shutdown()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self.gateway.drain()
        await self.health.stop()
        await self.gateway.billing.stop()
        await self.writer.stop()
        self.slot.release()
        await self.upstream.close()
        if self.db is not None:
            await db.close(self.db)


async def initialize_owner(announce: bool, admin_key: str | None = None) -> str | None:
    """Create the owner on the first start, with the operator's `admin_key` (``AIGNE_HUB_ADMIN_KEY``, never
    printed) or a generated one-time key (printed when `announce`); returns the owner's key when created."""
    from hub_core.admin.users import check_operator_key, create_key, ensure_owner

    if admin_key is not None:
        check_operator_key(admin_key)  # before the owner exists: a refused key must not lock the hub
    owner, created = await ensure_owner()
    if not created:
        if admin_key is not None:
            log.info("owner exists; AIGNE_HUB_ADMIN_KEY is only used on the first start")
        return None
    _, token = await create_key(owner, "initial admin key", role="owner", token=admin_key)
    if admin_key is not None:
        log.info("owner created with the operator's admin key", key=mask(admin_key))
    elif announce:
        print_admin_key(token)
    return token


def print_admin_key(token: str) -> None:
    bar = "=" * 72
    sys.stdout.write(
        f"\n{bar}\nAIGNE Hub: first start. The owner's admin key (shown once, store it now):\n\n"
        f"    {token}\n\nUse it as `Authorization: Bearer <key>` or to sign in to the console.\n{bar}\n\n"
    )
    sys.stdout.flush()
