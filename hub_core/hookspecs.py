"""The hooks of AIGNE Hub: every extension point a plugin can implement, in one place.

Hooks are grouped by phase: registration (once at startup), the request pipeline (once per call, in the order
they run) and observers (after the fact). The core calls every hook with keyword arguments; an implementation
may accept any subset of the parameters. Any implementation may be ``async def``: the core awaits every
result (see ``hub_core.infra.plugin_host``). No hook uses ``firstresult``: where "the first answer
wins", the core runs the implementations in priority order and takes the first one that is not None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from quart import Blueprint, Request

    from hub_core.billing.contracts import BillingMode, PaymentProvider
    from hub_core.config import Settings
    from hub_core.providers.base import Normalizer, Provider
    from hub_core.types import Caller, CallRecord, Route, UpstreamRequest

hookspec = pluggy.HookspecMarker("aigne_hub")
hookimpl = pluggy.HookimplMarker("aigne_hub")


# --- Registration: called once while the hub starts ------------------------------------------------------


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Register the provider adapters this plugin ships.

    Called once at startup, before the first request. Call ``register(provider)`` once per provider
    instance; ``provider.name`` is the routing prefix (``openai`` in ``openai/gpt-4o``). Return value ignored.
    All implementations run. ``async def`` is not useful here (registration is synchronous).
    Failure policy: a duplicate name is refused with a startup error that names both plugins; an exception
    marks this plugin as failed (visible in ``/-/plugins``) and the hub starts without it.

    :param register: callback that records one ``Provider`` instance under this plugin's name.
    """


@hookspec
def register_billing_modes(register: Callable[[BillingMode], None]) -> None:
    """Register billing modes (``free``, ``credits`` ...) this plugin ships.

    Called once at startup. Call ``register(mode)`` once per ``BillingMode`` instance; the admin chooses
    the active one. Return value ignored. All implementations run. ``async def`` is not useful here
    (registration is synchronous). Failure policy as for ``register_providers``.

    :param register: callback that records one ``BillingMode`` instance under this plugin's name.
    """


@hookspec
def register_payment_providers(register: Callable[[PaymentProvider], None]) -> None:
    """Register payment providers: objects that verify a payment service's webhooks and say whom to credit.

    Called once at startup. Call ``register(provider)`` once per ``hub_core.billing.manager.PaymentProvider``
    instance; ``provider.name`` names its webhook, ``POST /api/billing/payments/<name>/webhook`` (served by
    the credits billing mode, which credits each verified event exactly once per event id). Return value
    ignored. All implementations run. ``async def`` is not useful here (registration is synchronous).
    Failure policy as for ``register_providers``: a duplicate name is refused with a startup error that
    names both plugins.

    :param register: callback that records one ``PaymentProvider`` instance under this plugin's name.
    """


@hookspec
def register_routes(register: Callable[[Blueprint], None]) -> None:
    """Add HTTP routes (a Quart ``Blueprint``) to the hub, mounted under the hub's mount path.

    Called once at startup. Return value ignored. All implementations run. ``async def`` is not useful
    here (registration is synchronous; the view functions themselves are async). Routes of a plugin that is
    disabled later answer 404 until it is enabled again. Failure policy as for ``register_providers``.

    :param register: callback that mounts one ``Blueprint``.
    """


# --- Request pipeline: called once per API call, in this order --------------------------------------------


@hookspec
def auth_from_request(request: Request, settings: Settings) -> Caller | None:
    """Resolve the caller of an API request (authentication).

    Called once per request before anything else. Return a ``Caller`` to authenticate the request, or
    None to leave it to the next implementation. Implementations run in priority order and the first
    non-None answer wins; when every one returns None the request is refused with 401. Raise ``HubError``
    to refuse the request with that error (for example an expired key). ``async def`` allowed.
    Failure policy: fail closed. Any other exception refuses the request (500, no traceback to the client)
    and is logged with the plugin's name.

    :param request: the incoming Quart request (headers, cookies and query are available; do not read the
        body).
    :param settings: the hub's settings.
    """


@hookspec
def select_route(model: str, kind: str, caller: Caller, exclude: frozenset[str]) -> Route | None:
    """Choose the provider, upstream model and credential for a model string (routing).

    Called once per upstream attempt after authentication: once, and again for each failover attempt after
    a provider failed (``exclude`` then names the providers already tried; a route to one of them ends the
    call with the previous failure). ``model`` is what the client asked for
    (``openai/gpt-4o``, ``gpt-4o``). Return a ``Route``, or None to leave the model to the next
    implementation; when every one returns None the call fails with 404 "Model X not found". Raise
    ``HubError`` to refuse (for example a provider with no usable credential). First non-None answer in
    priority order wins. ``async def`` allowed. Failure policy: fail closed (the call is refused).

    :param model: the model string from the request.
    :param kind: ``chat``, ``embedding``, ``image`` or ``video``.
    :param caller: the authenticated caller.
    :param exclude: names of the providers this call already tried (empty on the first attempt).
    """


@hookspec
def prepare_upstream_request(upstream: UpstreamRequest, route: Route, caller: Caller) -> None:
    """Modify the upstream request in place before it is sent (credential injection).

    Called once per upstream attempt, after the provider built ``upstream`` from the client's request.
    The default implementation asks the provider to put ``route.credential`` into the request (an
    ``Authorization`` header, a signature ...). Return value ignored; all implementations run, lowest
    priority first: the ``trylast`` default runs first, so any other implementation sees what it did and may
    change or replace it (the highest priority has the last word). ``async def`` allowed. Failure policy:
    fail closed (the call is refused with 500).
    Never log ``route.credential``.

    :param upstream: the request about to be sent; change its ``url``, ``headers``, ``json`` in place.
    :param route: the chosen route, including the decrypted credential.
    :param caller: the authenticated caller.
    """


@hookspec
def select_normalizer(route: Route, kind: str, stream: bool) -> Normalizer | None:
    """Return the object that turns the provider's answer into the hub's standard format.

    Called once per upstream attempt, before the answer is read. The standard format is the OpenAI Chat
    Completions shape (non-streaming: a ``chat.completion`` object; streaming: ``chat.completion.chunk``
    objects) plus a ``Usage``. The returned ``Normalizer`` is then called directly for the body or for
    every stream chunk (no hook call per chunk). Return None to leave it to the next implementation; the
    default implementation returns ``route.provider.normalizer(kind, stream, route)``. First non-None answer
    in priority order wins. ``async def`` allowed. Failure policy: fail closed (an exception refuses the call
    with 500 before anything is sent upstream; when no implementation answers, the call fails with 502).

    :param route: the chosen route.
    :param kind: ``chat``, ``embedding``, ``image`` or ``video``.
    :param stream: whether the upstream answer is a stream.
    """


# --- Observers: called after the fact; they cannot change the outcome ------------------------------------


@hookspec
def on_call_finished(record: CallRecord) -> None:
    """Observe every finished call: success, upstream error, validation failure after routing, or abort.

    Called exactly once per routed call, after the response is complete (for streams: after the last
    byte or the client's disconnect), off the response path. The default implementation queues the record
    for the database usage log. Return value ignored; all implementations run. ``async def`` allowed but
    must be quick (queue, don't write synchronously). Failure policy: fail open; each implementation is
    isolated and its exception logged with the plugin's name.

    :param record: what happened, with tokens, status, durations and the caller's identity.
    """


@hookspec
def on_startup(settings: Settings) -> None:
    """Observe that the hub finished starting (database ready, plugins loaded), before serving.

    Return value ignored; all implementations run; ``async def`` allowed. Failure policy: fail open.

    :param settings: the hub's settings.
    """


@hookspec
def on_shutdown(settings: Settings) -> None:
    """Observe that the hub is stopping, after the last request, before the database closes.

    Return value ignored; all implementations run; ``async def`` allowed. Failure policy: fail open.

    :param settings: the hub's settings.
    """


SPEC_NAMES: tuple[str, ...] = (
    "register_providers",
    "register_billing_modes",
    "register_payment_providers",
    "register_routes",
    "auth_from_request",
    "select_route",
    "prepare_upstream_request",
    "select_normalizer",
    "on_call_finished",
    "on_startup",
    "on_shutdown",
)

__all__ = ["SPEC_NAMES", "Any", "hookspec"]
