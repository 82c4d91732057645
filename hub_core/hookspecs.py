"""The hooks of AIGNE Hub: every extension point a plugin can implement, in one place.

Hooks are grouped by phase: registration (once at startup), the request pipeline (once per call, in the order
they run) and observers (after the fact). Each spec is declared with its semantics (`HookSemantics`, kept in
`SEMANTICS`), which the core's hook facade (`hub_core.infra.hooks.Hooks`) follows and from which the hook
table in docs/plugins.md is generated. What the semantics mean, once for all hooks:

- **calling**: ``register`` - every implementation runs once at startup and registers objects through the
  ``register`` callback; ``first`` - implementations run in priority order and the first answer that is not
  None wins (the rest are not called); ``all`` - every implementation runs, lowest priority first, so the
  ``trylast`` default runs first and the highest priority has the last word; ``observe`` - every
  implementation runs, each isolated from the others.
- **failure**: ``isolated`` - an exception marks the plugin ``failed`` (visible in ``/-/plugins``) and the hub
  starts without it; ``closed`` - ``HubError`` is passed on as is, any other exception refuses the request
  with 500 ``plugin_error`` naming plugin and hook; ``open`` - the exception is logged with the plugin's
  name and nothing else happens.
- **async**: whether ``async def`` implementations are awaited (registration is synchronous).

Every hook is called with keywords and an implementation may accept any subset of the parameters. Besides
the parameters of each spec, every hook is offered ``hub`` (the `HubAPI` of the hub calling it: its settings,
plugin settings and services; one process may run several hubs), ``settings`` (the hub's `Settings`) and
``config`` (this plugin's own settings: the schema's defaults overlaid with the stored values). New
parameters may be added; existing ones are never renamed or removed. No hook uses pluggy's ``firstresult``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pluggy

if TYPE_CHECKING:
    from quart import Blueprint, Request

    from hub_core.billing.contracts import BillingMode, PaymentProvider
    from hub_core.config import Settings
    from hub_core.providers.base import Normalizer, Provider
    from hub_core.types import Caller, CallRecord, HubAPI, Route, UpstreamRequest

PROJECT = "aigne_hub"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Phase = Literal["registration", "request", "observer"]
Calling = Literal["register", "first", "all", "observe"]
Failure = Literal["isolated", "closed", "open"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class HookSemantics:
    """How the core calls one hook (see the module docstring for what each value means)."""

    phase: Phase
    calling: Calling
    failure: Failure
    async_allowed: bool


#: every hook's semantics, by name, in the order the hooks are declared (phase by phase)
SEMANTICS: dict[str, HookSemantics] = {}

#: the parameters every hook is offered besides its own
COMMON_PARAMETERS = ("hub", "settings", "config")


def spec(phase: Phase, calling: Calling, failure: Failure, *, async_allowed: bool = True) -> Callable[[F], F]:
    """Declare a hookspec together with its semantics."""

    def declare(function: F) -> F:
        SEMANTICS[function.__name__] = HookSemantics(phase, calling, failure, async_allowed)
        return hookspec(function)

    return declare


def registration() -> Callable[[F], F]:
    """Declare a registration hookspec (``register_*``)."""
    return spec("registration", "register", "isolated", async_allowed=False)


# --- Registration: called once while the hub starts ------------------------------------------------------


@registration()
def register_providers(
    register: Callable[[Provider], None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Register the provider adapters this plugin ships.

    Called once at startup, before the first request. Call ``register(provider)`` once per provider
    instance; ``provider.name`` is the routing prefix (``openai`` in ``openai/gpt-4o``). A name another plugin
    registered first is refused with a startup error that names both plugins.

    :param register: records one ``Provider`` instance under this plugin's name.
    """


@registration()
def register_billing_modes(
    register: Callable[[BillingMode], None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Register billing modes (``free``, ``credits`` ...) this plugin ships; the admin chooses the active one.

    :param register: records one ``hub_core.billing.BillingMode`` instance under this plugin's name.
    """


@registration()
def register_payment_providers(
    register: Callable[[PaymentProvider], None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Register payment providers: objects that verify a payment service's webhooks and say whom to credit.

    ``provider.name`` names its webhook, ``POST /api/billing/payments/<name>/webhook`` (served by the credits
    billing mode, which credits each verified event exactly once per event id).

    :param register: records one ``hub_core.billing.PaymentProvider`` instance under this plugin's name.
    """


@registration()
def register_routes(
    register: Callable[[Blueprint], None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Add HTTP routes (a Quart ``Blueprint``) to the hub, mounted under the hub's mount path.

    Routes of a plugin that is disabled later answer 404 until it is enabled again. Route handlers find the
    hub with ``hub_core.web.current_hub()``.

    :param register: mounts one ``Blueprint``.
    """


@registration()
def register_commands(
    register: Callable[..., None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Add subcommands to the ``aigne-hub`` command line.

    Called when the ``aigne-hub`` command looks for a command the core does not have (and for ``--help``),
    and once at hub startup, so that ``/-/plugins`` lists the commands. Call ``register(command)`` with a
    ``click.Command`` or ``click.Group``: it becomes ``aigne-hub NAME``; ``register(cmd, group="billing")``
    puts it under a command group of the core instead (``aigne-hub billing NAME``; a nested group is named
    by its path, ``"billing rates"``). Commands that open the database use ``hub_core.cli.run_async``, which
    also makes the plugins' tables usable. A name another plugin registered in the same group is refused
    with an error that names both plugins; a name the core uses is ignored with a warning (the core's
    command wins).

    :param register: ``register(command, group=None)`` records one click command.
    """


@registration()
def register_db_models(
    register: Callable[[str, str, str], None], hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> None:
    """Declare this plugin's own database tables: a Tortoise app with its models and migrations.

    Called once when a hub starts, and by the ``aigne-hub`` commands that migrate the database or run a
    plugin's command, before the database is migrated. Call ``register(app_label, models_module,
    migrations_module)``: ``app_label`` names the Tortoise app (its
    migrations are recorded under it; ``models`` is the core's), ``models_module`` is the dotted module of
    its ``tortoise.models.Model`` classes, ``migrations_module`` the dotted package of its migrations (written
    with ``tortoise makemigrations``). Every hub start, ``aigne-hub init``, ``aigne-hub db upgrade`` and the
    plugins' own commands (run with ``hub_core.cli.run_async``) apply the app's pending migrations with the
    core's, on the hub's database; its models then work wherever the hub or a plugin command has it open.
    A label that is taken (by the core or another plugin) or a module that cannot be imported is refused
    with a startup error (the plugin is failed); a migration that fails stops the upgrade, and the hub's
    start, as a failing core migration would.

    :param register: ``register(app_label, models_module, migrations_module)`` records the plugin's app.
    """


# --- Request pipeline: called once per API call, in this order --------------------------------------------


@spec("request", "first", "closed")
def auth_from_request(
    request: Request, hub: HubAPI, settings: Settings, config: dict[str, Any]
) -> Caller | None:
    """Resolve the caller of an API request (authentication).

    Called once per request before anything else. Return a ``Caller`` to authenticate the request, or None
    to leave it to the next implementation; when every one returns None the request is refused with 401.
    Raise ``HubError`` to refuse the request with that error (for example an expired key).

    :param request: the incoming Quart request (headers, cookies and query; do not read the body).
    """


@spec("request", "first", "closed")
def select_route(
    model: str,
    kind: str,
    caller: Caller,
    exclude: frozenset[str],
    hub: HubAPI,
    settings: Settings,
    config: dict[str, Any],
) -> Route | None:
    """Choose the provider, upstream model and credential for a model string (routing).

    Called once per upstream attempt after authentication: once, and again for each failover attempt after
    a provider failed. Return a ``Route``, or None to leave the model to the next implementation; when every
    one returns None the call fails with 404 "Model X not found". Raise ``HubError`` to refuse (for example a
    provider with no usable credential). A route to a provider in ``exclude`` ends the call with the previous
    failure.

    :param model: the model string from the request (``openai/gpt-4o``, ``gpt-4o``).
    :param kind: ``chat``, ``embedding``, ``image`` or ``video``.
    :param caller: the authenticated caller.
    :param exclude: names of the providers this call already tried (empty on the first attempt).
    """


@spec("request", "all", "closed")
def prepare_upstream_request(
    upstream: UpstreamRequest,
    route: Route,
    caller: Caller,
    hub: HubAPI,
    settings: Settings,
    config: dict[str, Any],
) -> None:
    """Modify the upstream request in place before it is sent (credential injection, request signing).

    Called once per upstream attempt, after the provider built ``upstream`` from the client's request. The
    default asks the provider to put ``route.credential`` into the request (an ``Authorization`` header, a
    signature ...); later implementations see what it did. Return value ignored. Never log
    ``route.credential``.

    :param upstream: the request about to be sent; change its ``url``, ``headers``, ``json`` in place.
    :param route: the chosen route, including the decrypted credential.
    :param caller: the authenticated caller.
    """


@spec("request", "first", "closed")
def select_normalizer(
    route: Route,
    kind: str,
    stream: bool,
    payload: dict[str, Any],
    hub: HubAPI,
    settings: Settings,
    config: dict[str, Any],
) -> Normalizer | None:
    """Return the object that turns the provider's answer into the hub's standard format.

    Called once per upstream attempt, before the answer is read. The standard format is the OpenAI Chat
    Completions shape (a ``chat.completion`` object, or ``chat.completion.chunk`` objects for a stream) plus
    a ``Usage``. The returned ``Normalizer`` is then called directly for the body or for every stream chunk
    (no hook call per chunk). Return None to leave it to the next implementation; the default returns
    ``route.provider.normalizer(kind, stream, route, payload)``; when none answers the call fails with
    502.

    :param route: the chosen route.
    :param kind: ``chat``, ``embedding``, ``image`` or ``video``.
    :param stream: whether the upstream answer is a stream.
    :param payload: the standard request the upstream request was built from (read only).
    """


# --- Observers: called after the fact; they cannot change the outcome ------------------------------------


@spec("observer", "observe", "open")
def on_call_finished(record: CallRecord, hub: HubAPI, settings: Settings, config: dict[str, Any]) -> None:
    """Observe every finished call: success, upstream error, validation failure after routing, or abort.

    Called exactly once per routed call, after the response is complete (for streams: after the last byte
    or the client's disconnect), off the response path and possibly outside any request context: use the
    ``hub`` parameter, not ``current_hub()``. The default queues the record for the database usage log. An
    ``async def`` implementation must be quick (queue, don't write synchronously). Return value ignored.

    :param record: what happened, with tokens, status, durations and the caller's identity.
    """


@spec("observer", "observe", "open")
def on_startup(hub: HubAPI, settings: Settings, config: dict[str, Any]) -> None:
    """Observe that the hub finished starting (database ready, plugins loaded), before serving.

    Start a plugin's background work here (and stop it in ``on_shutdown``). Return value ignored.
    """


@spec("observer", "observe", "open")
def on_shutdown(hub: HubAPI, settings: Settings, config: dict[str, Any]) -> None:
    """Observe that the hub is stopping, after the last request, before the database closes.

    Return value ignored.
    """


SPEC_NAMES: tuple[str, ...] = tuple(SEMANTICS)

_CALLING_TEXT = {
    "register": "all, once at startup",
    "first": "first answer wins",
    "all": "all, in place",
    "observe": "all, isolated",
}
_FAILURE_TEXT = {"isolated": "plugin marked failed", "closed": "**fail closed**", "open": "fail open"}


def reference_table() -> str:
    """The hook table of docs/plugins.md, made from the specs (a test keeps the two equal)."""
    rows = [
        "| hook | phase | who runs | failure | `async def` | own parameters | what for |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, sem in SEMANTICS.items():
        function = globals()[name]
        params = [p for p in inspect.signature(function).parameters if p not in COMMON_PARAMETERS]
        summary = (inspect.getdoc(function) or "").split("\n", 1)[0]
        rows.append(
            f"| `{name}` | {sem.phase} | {_CALLING_TEXT[sem.calling]} | {_FAILURE_TEXT[sem.failure]} "
            f"| {'yes' if sem.async_allowed else 'no'} | {', '.join(f'`{p}`' for p in params) or '-'} "
            f"| {summary} |"
        )
    return "\n".join(rows) + "\n"


__all__ = [
    "COMMON_PARAMETERS",
    "SEMANTICS",
    "SPEC_NAMES",
    "HookSemantics",
    "hookimpl",
    "hookspec",
    "reference_table",
    "spec",
]
