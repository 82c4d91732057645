"""Admin JSON API: providers and credentials (``/api/ai-providers``, as in the original hub), users, access
keys and plugins (``/api/admin``). Every route needs an admin or owner key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, request

from hub_core.admin import compatible, plugin_config, plugin_state, providers, users
from hub_core.db import audit
from hub_core.db import models as m
from hub_core.errors import bad_request
from hub_core.providers.compatible import KIND
from hub_core.routing.status import ModelState
from hub_core.routing.verify import raise_unless_valid
from hub_core.web.api.admin_auth import audit_actor, require_admin
from hub_core.web.api.common import admin_error, as_hub_error, current_hub, json_body, json_response

bp = Blueprint("admin", __name__)


@bp.errorhandler(Exception)
async def _error(exc: Exception) -> Response:
    return admin_error(as_hub_error(exc))


@bp.before_request
async def _admin_only() -> None:
    await require_admin()


def _paging() -> tuple[int, int]:
    try:
        page = max(1, int(request.args.get("page", 1)))
        size = min(100, max(1, int(request.args.get("pageSize", 20))))
    except ValueError as exc:
        raise bad_request("page and pageSize must be integers") from exc
    return page, size


def _page_of(count: int, items: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    return {"count": count, "list": items, "paging": {"page": page, "pageSize": size}}


# --- providers and credentials ------------------------------------------------------------------------


@bp.get("/api/ai-providers")
async def list_providers() -> Response:
    hub = current_hub()
    query = m.Provider.all().prefetch_related("credentials").order_by("name")
    if name := request.args.get("name"):
        query = query.filter(name=name)
    return json_response([providers.provider_dict(p, hub.host) for p in await query])


@bp.get("/api/ai-providers/available")
async def available_providers() -> Response:
    """Every installed provider plugin with its credential schema, for the admin forms."""
    hub = current_hub()
    out = []
    for name, adapter in sorted(hub.host.providers.items()):
        plugin = hub.host.provider_plugin(name)
        if plugin == KIND:
            continue  # an admin's OpenAI-compatible endpoint, not an installed plugin
        out.append(
            {**adapter.describe(), "plugin": plugin, "pluginEnabled": hub.host.is_enabled(plugin or "")}
        )
    return json_response(out)


@bp.post("/api/ai-providers")
async def create_provider() -> Response:
    hub = current_hub()
    body = _texts(await json_body(), "name", "displayName", "baseUrl", "region", "kind")
    kind = body.get("kind") or "plugin"
    if kind == KIND:
        return await _create_compatible(body)
    if kind != "plugin":
        raise bad_request(f"kind must be 'plugin' or {KIND!r}", param="kind")
    row = await providers.add_provider(
        hub.settings,
        hub.host,
        str(body.get("name", "")),
        display_name=body.get("displayName"),
        base_url=body.get("baseUrl"),
        region=body.get("region"),
        enabled=bool(body.get("enabled", True)),
        config=body.get("config") if isinstance(body.get("config"), dict) else None,
        actor=await audit_actor(),
    )
    await hub.state.reload()
    return json_response(providers.provider_dict(row, hub.host), 201)


async def _create_compatible(body: dict[str, Any]) -> Response:
    """An OpenAI-compatible endpoint without a plugin: name, baseUrl, apiKey?, models? (else discovered)."""
    hub = current_hub()
    row, found = await compatible.add_compatible_provider(
        hub.settings,
        hub.host,
        hub.keyring,
        body.get("name"),
        body.get("baseUrl"),
        api_key=body.get("apiKey"),
        models=body.get("models"),
        display_name=body.get("displayName"),
        enabled=_flag(body, "enabled", True),
        verify=_flag(body, "verify", True),
        config=body.get("config"),
        upstream=hub.upstream,
        actor=await audit_actor(),
    )
    await hub.state.reload()
    await row.fetch_related("credentials")
    return json_response({**providers.provider_dict(row, hub.host), "discoveredModels": found}, 201)


@bp.post("/api/ai-providers/discover")
async def discover_models() -> Response:
    """Ask an OpenAI-compatible endpoint for its models before saving it: ``{baseUrl, apiKey?}``."""
    hub = current_hub()
    body = await json_body()
    url = providers.check_endpoint_url(body.get("baseUrl"))
    key = compatible.api_key_of(body.get("apiKey"))
    found = await compatible.discover_models(hub.settings, url, key, upstream=hub.upstream)
    return json_response({"baseUrl": url, "models": found})


@bp.get("/api/ai-providers/<int:provider_id>/models")
async def provider_models(provider_id: int) -> Response:
    """The models a provider record lists and the ones its upstream lists now."""
    hub = current_hub()
    listed = await compatible.record_models(
        hub.settings, hub.host, hub.keyring, provider_id, upstream=hub.upstream
    )
    return json_response(listed)


@bp.put("/api/ai-providers/<int:provider_id>")
async def update_provider(provider_id: int) -> Response:
    hub = current_hub()
    body = _texts(await json_body(), "displayName", "baseUrl", "region")
    row = await providers.update_provider(hub.settings, provider_id, body, actor=await audit_actor())
    await hub.state.reload()
    await row.fetch_related("credentials")  # the answer lists them, as GET does
    return json_response(providers.provider_dict(row, hub.host))


@bp.delete("/api/ai-providers/<int:provider_id>")
async def delete_provider(provider_id: int) -> Response:
    hub = current_hub()
    await providers.delete_provider(hub.settings, provider_id, actor=await audit_actor())
    await hub.state.reload()
    return json_response({"message": "deleted"})


@bp.post("/api/ai-providers/<int:provider_id>/credentials")
async def create_credential(provider_id: int) -> Response:
    hub = current_hub()
    body = _texts(await json_body(), "name")
    cred = await providers.add_credential(
        hub.settings,
        hub.host,
        hub.keyring,
        provider_id,
        body.get("value"),
        name=body.get("name"),
        weight=_int(body.get("weight", 100), "weight"),
        credential_type=str(body.get("credentialType", "api_key")),
        **_verification(body),
        actor=await audit_actor(),
    )
    await hub.state.reload()
    return json_response(providers.credential_dict(cred), 201)


@bp.put("/api/ai-providers/<int:provider_id>/credentials/<int:cred_id>")
async def update_credential(provider_id: int, cred_id: int) -> Response:
    hub = current_hub()
    body = _texts(await json_body(), "name")
    if "weight" in body:
        body["weight"] = _int(body["weight"], "weight")
    cred = await providers.update_credential(
        hub.settings,
        hub.host,
        hub.keyring,
        provider_id,
        cred_id,
        body,
        **_verification(body),
        actor=await audit_actor(),
    )
    await hub.state.reload()
    return json_response(providers.credential_dict(cred))


@bp.delete("/api/ai-providers/<int:provider_id>/credentials/<int:cred_id>")
async def delete_credential(provider_id: int, cred_id: int) -> Response:
    hub = current_hub()
    await providers.delete_credential(hub.settings, provider_id, cred_id, actor=await audit_actor())
    await hub.state.reload()
    return json_response({"message": "deleted"})


def _verification(body: dict[str, Any]) -> dict[str, Any]:
    """A new credential value is checked with a live test call unless the body says ``"verify": false``."""
    verify = body.get("verify", True)
    if not isinstance(verify, bool):
        raise bad_request("verify must be a boolean", param="verify")
    return {"verify": verify, "upstream": current_hub().upstream, "test_model": _test_model(body)}


def _test_model(body: dict[str, Any]) -> str | None:
    model = body.get("testModel")
    if model is not None and (not isinstance(model, str) or len(model) > 200):
        raise bad_request("testModel must be a model id", param="testModel")
    return model or None


@bp.post("/api/ai-providers/<int:provider_id>/credentials/test")
async def try_credential(provider_id: int) -> Response:
    """Make the provider's test call with a credential value, without saving it (rate-limited per user)."""
    hub = current_hub()
    hub.health.credential_tests.hit((await require_admin()).user_id)
    body = await json_body()
    result = await providers.check_credential_value(
        hub.settings,
        hub.host,
        provider_id,
        body.get("value"),
        upstream=hub.upstream,
        test_model=_test_model(body),
    )
    hub.health.record_check(result)
    raise_unless_valid(result)
    return json_response(result.as_dict())


@bp.get("/api/ai-providers/<int:provider_id>/credentials/<int:cred_id>/check")
async def check_credential(provider_id: int, cred_id: int) -> Response:
    """Re-validate a stored credential: on when the vendor accepts it, off with its error when it refuses."""
    hub = current_hub()
    cred, result = await providers.check_stored_credential(
        hub.settings,
        hub.host,
        hub.keyring,
        provider_id,
        cred_id,
        upstream=hub.upstream,
        test_model=_test_model(dict(request.args)),
    )
    hub.health.record_check(result)
    await hub.state.reload()
    if not cred.active and result.verdict == "invalid":
        hub.health.schedule_recheck(result.provider, cred.id)
    raise_unless_valid(result)
    return json_response({**result.as_dict(), "credential": providers.credential_dict(cred)})


@bp.get("/api/ai-providers/status")
async def model_status() -> Response:
    """Availability of each provider/model as the last call or check found it (all hub instances)."""
    hub = current_hub()
    await hub.health.status.flush()
    query = m.ModelStatus.all().order_by("provider", "model", "kind")
    for arg, column in (("provider", "provider"), ("model", "model"), ("type", "kind")):
        if value := request.args.get(arg):
            query = query.filter(**{column: value})
    ids = {p.name: p.id for p in await m.Provider.all()}
    rows = [ModelState.from_row(row).as_dict() for row in await query.limit(5000)]
    return json_response([{**row, "providerId": ids.get(row["provider"])} for row in rows])


@bp.get("/api/ai-providers/health")
async def provider_health() -> Response:
    """Each credential's state (``running``: in use), cool-downs and the credentials being re-checked."""
    hub = current_hub()
    out: dict[str, dict[str, Any]] = {}
    for row in await m.Provider.all().prefetch_related("credentials").order_by("name"):
        out[row.name] = {
            c.name: {
                "id": c.id,
                "running": c.active,
                "error": c.error,
                "weight": hub.health.weight_of(c.id) or c.weight,
            }
            for c in row.credentials
        }
    stamp = datetime.now(UTC).isoformat()
    return json_response({"providers": out, **hub.health.describe(), "timestamp": stamp})


# --- users and keys -----------------------------------------------------------------------------------


@bp.get("/api/admin/users")
async def list_users() -> Response:
    page, size = _paging()
    query = m.User.all()
    if q := request.args.get("q"):
        query = query.filter(name__icontains=q)
    count = await query.count()
    rows = await query.order_by("id").offset((page - 1) * size).limit(size)
    return json_response(_page_of(count, [users.user_dict(u) for u in rows], page, size))


@bp.post("/api/admin/users")
async def create_user() -> Response:
    body = await json_body()
    users.authorize_user_change(await require_admin(), None, str(body.get("role", "member")))
    user = await users.create_user(
        str(body.get("name", "")),
        str(body.get("role", "member")),
        body.get("email"),
        actor=await audit_actor(),
    )
    return json_response(users.user_dict(user), 201)


@bp.put("/api/admin/users/<int:user_id>")
async def update_user(user_id: int) -> Response:
    hub = current_hub()
    body = await json_body()
    target = await users.get_user(user_id)
    new_role = str(body["role"]) if "role" in body else None
    users.authorize_user_change(await require_admin(), target.role, new_role)
    user = await users.update_user(hub.settings, user_id, body, actor=await audit_actor())
    await hub.state.reload()
    return json_response(users.user_dict(user))


@bp.get("/api/admin/keys")
async def list_keys() -> Response:
    page, size = _paging()
    query = m.AccessKey.all()
    if user_id := request.args.get("userId"):
        query = query.filter(user_id=_int(user_id, "userId"))
    if q := request.args.get("q"):
        query = query.filter(name__icontains=q)
    count = await query.count()
    rows = await query.order_by("-id").offset((page - 1) * size).limit(size)
    return json_response(_page_of(count, [users.key_dict(k) for k in rows], page, size))


@bp.post("/api/admin/keys")
async def create_key() -> Response:
    body = await json_body()
    caller = await require_admin()
    key_role = str(body["role"]) if body.get("role") else None
    if body.get("userId") is not None:
        user = await users.get_user(_int(body["userId"], "userId"))
        if user.id != caller.user_id:
            users.authorize_user_change(caller, user.role, key_role)
    elif body.get("createUser"):
        users.authorize_user_change(caller, None, str(body.get("role", "member")))
        user = await users.create_user(
            str(body.get("name", "")), str(body.get("role", "member")), actor=await audit_actor()
        )
    else:
        user = await users.get_user(caller.user_id)
    users.authorize_user_change(caller, None, key_role)
    expires = _datetime(body.get("expiresAt"))
    key, token = await users.create_key(
        user, str(body.get("name", "")), body.get("role"), expires, actor=await audit_actor()
    )
    return json_response({**users.key_dict(key), "key": token}, 201)


@bp.delete("/api/admin/keys/<int:key_id>")
async def revoke_key(key_id: int) -> Response:
    hub = current_hub()
    caller = await require_admin()
    owner = await m.AccessKey.filter(id=key_id).values_list("user__role", flat=True)
    if owner and caller.key_id != key_id:  # an admin may not lock the owner out; anyone may drop their own
        users.authorize_user_change(caller, owner[0])
    key = await users.revoke_key(hub.settings, key_id, actor=await audit_actor())
    await hub.state.reload()
    return json_response(users.key_dict(key))


# --- audit log ----------------------------------------------------------------------------------------


@bp.get("/api/admin/audit")
async def audit_log() -> Response:
    """Admin changes, newest first: ``actor`` (user id, ``cli``, ``system`` or part of a name), ``action``
    (a prefix: ``provider.`` or ``key.revoke``), ``targetType``, ``targetId``, ``from``/``to`` (ISO 8601)."""
    page, size = _paging()
    args = request.args
    since, until = _datetime(args.get("from"), "from"), _datetime(args.get("to"), "to")
    if since and until and since >= until:
        raise bad_request("from must be before to", param="from")
    count, rows = await audit.search(
        actor=(args.get("actor") or "").strip() or None,
        action=(args.get("action") or "").strip() or None,
        target_type=(args.get("targetType") or "").strip() or None,
        target_id=(args.get("targetId") or "").strip() or None,
        since=since,
        until=until,
        page=page,
        page_size=size,
    )
    return json_response(_page_of(count, [audit.entry_dict(r) for r in rows], page, size))


# --- plugins ------------------------------------------------------------------------------------------


@bp.get("/api/admin/plugins")
async def list_plugins() -> Response:
    return json_response(current_hub().host.describe())


@bp.put("/api/admin/plugins/<name>")
async def toggle_plugin(name: str) -> Response:
    hub = current_hub()
    body = await json_body()
    if not isinstance(body.get("enabled"), bool):
        raise bad_request("enabled must be a boolean", param="enabled")
    resolved = await plugin_state.set_plugin_enabled(
        hub.settings, hub.host, name, body["enabled"], actor=await audit_actor()
    )
    await hub.state.reload()
    return json_response(hub.host.infos[resolved].as_dict())


@bp.get("/api/admin/plugins/<name>/config")
async def get_plugin_config(name: str) -> Response:
    """A plugin's settings schema, the stored values and the effective values (defaults applied), secret
    fields masked."""
    hub = current_hub()
    resolved, schema = plugin_config.schema_of(hub.host, name)
    stored = hub.state.plugin_config.get(resolved, {})
    return json_response(plugin_config.view(resolved, schema, stored, hub.host.config(resolved)))


@bp.put("/api/admin/plugins/<name>/config")
async def put_plugin_config(name: str) -> Response:
    """Replace a plugin's settings (validated against its schema); every hub instance applies them."""
    hub = current_hub()
    resolved, schema = plugin_config.schema_of(hub.host, name)
    stored = hub.state.plugin_config.get(resolved, {})
    values = plugin_config.validate(schema, await json_body(), stored)
    await plugin_config.save(hub.settings, hub.keyring, resolved, schema, values, actor=await audit_actor())
    await hub.state.reload()
    return json_response(plugin_config.view(resolved, schema, values, hub.host.config(resolved)))


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise bad_request(f"{name} must be an integer", param=name)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # also nan, inf
        raise bad_request(f"{name} must be an integer", param=name) from exc


def _flag(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be a boolean", param=name)
    return value


def _texts(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """The named fields must be strings (or null) before the services slice or parse them."""
    for name in names:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_request(f"{name} must be a string", param=name)
    return body


def _datetime(value: Any, name: str = "expiresAt") -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_request(f"{name} must be an ISO 8601 date-time", param=name) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
