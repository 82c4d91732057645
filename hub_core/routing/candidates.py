"""Which providers serve a bare model name (``gpt-4o``, no ``provider/``), under which upstream id, in which
order: the rotation the default routing plugin walks for every call and every failover attempt.

A provider serves a bare model when its record lists it (``config.models``, authoritative when set), when
its plugin says so through ``Provider.model_for(bare)`` (unless that returns ``NotImplemented``), when its
upstream model list (cached by the catalog) or its plugin's ``known_models`` contain it, or when the original
hub's name patterns name it (``gpt-`` → openai, openrouter, poe ...), with the ids OpenRouter
(``vendor/model``) and Bedrock (``vendor.model``) expect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub_core.infra.plugin_host import PluginHost
    from hub_core.providers.base import Provider
    from hub_core.routing.health import ProviderHealth
    from hub_core.runtime.state import ProviderConfig


@dataclass(frozen=True, slots=True)
class Pattern:
    """Bare names starting with one of `prefixes` are served by `providers`; `vendors` gives the vendor
    namespace a re-seller puts in front of the name (OpenRouter ``openai/``, Bedrock ``anthropic.``)."""

    prefixes: tuple[str, ...]
    providers: tuple[str, ...]
    vendors: tuple[tuple[str, str], ...] = ()

    def vendor_for(self, provider: str) -> str | None:
        return dict(self.vendors).get(provider)


#: the original hub's find-provider table (reference §3.2), first match wins
PATTERNS: tuple[Pattern, ...] = (
    Pattern(("gemini", "imagen", "veo"), ("google", "openrouter", "poe"), (("openrouter", "google"),)),
    Pattern(
        ("gpt-", "o1", "o3", "o4-", "chatgpt-", "dall-e-", "text-embedding", "sora-"),
        ("openai", "openrouter", "poe"),
        (("openrouter", "openai"),),
    ),
    Pattern(
        ("claude",),
        ("anthropic", "bedrock", "openrouter", "poe"),
        (("openrouter", "anthropic"), ("bedrock", "anthropic")),
    ),
    Pattern(("deepseek",), ("deepseek", "openrouter", "ollama"), (("openrouter", "deepseek"),)),
    Pattern(("grok",), ("xai", "openrouter", "poe"), (("openrouter", "x-ai"),)),
    Pattern(("doubao",), ("doubao",)),
    Pattern(
        ("llama",), ("openrouter", "ollama", "bedrock"), (("openrouter", "meta-llama"), ("bedrock", "meta"))
    ),
    Pattern(
        ("mistral", "mixtral"),
        ("openrouter", "ollama", "bedrock"),
        (("openrouter", "mistralai"), ("bedrock", "mistral")),
    ),
    Pattern(("qwen",), ("openrouter", "ollama"), (("openrouter", "qwen"),)),
    Pattern(("gemma",), ("openrouter", "ollama"), (("openrouter", "google"),)),
    Pattern(("yi-",), ("openrouter", "ollama"), (("openrouter", "01-ai"),)),
    Pattern(("phi-", "phi3", "phi4"), ("openrouter", "ollama"), (("openrouter", "microsoft"),)),
)

#: how a re-seller writes ``vendor`` + ``model``
ID_FORMS: dict[str, str] = {"openrouter": "{vendor}/{model}", "bedrock": "{vendor}.{model}"}

#: order among the providers of one model (reference: direct 1, bedrock 2, openrouter/poe 3, ollama 4)
RANKS: dict[str, int] = {"bedrock": 2, "openrouter": 3, "poe": 3, "ollama": 4}

CACHE_SECONDS = 30.0
MAX_TRACKED_MODELS = 10_000


@dataclass(frozen=True, slots=True)
class Candidate:
    """One provider that serves a bare model: its name, the id to send upstream, and its rank."""

    provider: str
    model: str
    rank: int


def pattern_for(model: str) -> Pattern | None:
    lowered = model.lower()
    for pattern in PATTERNS:
        if lowered.startswith(pattern.prefixes):
            return pattern
    return None


def match_id(model: str, ids: Iterable[str]) -> str | None:
    """The id in `ids` that names `model`: itself, or a vendor-qualified form (``openai/gpt-4o``,
    ``us.anthropic.claude-sonnet-4-…``)."""
    qualified = None
    for candidate in ids:
        if candidate == model:
            return candidate
        if qualified is None and candidate.endswith((f"/{model}", f".{model}")):
            qualified = candidate
    return qualified


def served_id(
    name: str, provider: Provider, config: dict[str, Any], model: str, kind: str, listed: list[str]
) -> str | None:
    """The upstream id under which provider `name` serves the bare `model`, or None when it does not."""
    configured = config.get("models")
    if isinstance(configured, list) and configured:  # the admin's list is the whole truth
        return match_id(model, (str(m) for m in configured))
    found = provider.model_for(model)
    if found is not NotImplemented:  # the plugin decides
        return str(found) if found else None
    own = match_id(model, [*provider.known_models.get(kind, ()), *listed])
    if own is not None:
        return own
    pattern = pattern_for(model)
    if pattern is None or name not in pattern.providers:
        return None
    vendor = pattern.vendor_for(name)
    form = ID_FORMS.get(name)
    return form.format(vendor=vendor, model=model) if vendor and form else model


def is_usable(provider: Provider, cfg: ProviderConfig | None) -> bool:
    """Configured (a record, env keys or an env base URL) and able to authenticate."""
    if cfg is None or not cfg.enabled:
        return False
    if cfg.id is None and not cfg.credentials and not cfg.base_url:
        return False  # nothing configured it (a keyless plugin such as Ollama is not implicitly used)
    return bool(cfg.credentials) or not provider.credential_schema.get("required")


class BareModelRouter:
    """The candidates of each bare model (cached briefly) and the round-robin turn of each model."""

    def __init__(
        self,
        host: PluginHost,
        config_of: Callable[[str, Provider], ProviderConfig | None],
        health: ProviderHealth | None = None,
    ) -> None:
        self.host = host
        self.config_of = config_of
        self.health = health
        #: ``name -> cached upstream model ids``; set by the hub to the catalog's cache
        self.listed: Callable[[str], list[str]] = lambda _name: []
        self._cache: dict[tuple[str, str], tuple[float, list[Candidate]]] = {}
        self._turns: dict[tuple[str, str], int] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def candidates(self, model: str, kind: str) -> list[Candidate]:
        """Every usable provider that serves `model` for `kind`, best rank first."""
        key = (model, kind)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        found: list[Candidate] = []
        for name, provider in self.host.enabled_providers().items():
            cfg = self.config_of(name, provider) if provider.supports(kind) else None
            if cfg is None or not is_usable(provider, cfg):
                continue
            upstream_id = served_id(name, provider, cfg.config, model, kind, self.listed(name))
            if upstream_id:
                found.append(Candidate(name, upstream_id, RANKS.get(name, 1)))
        found.sort(key=lambda c: (c.rank, c.provider))
        if len(self._cache) > MAX_TRACKED_MODELS:
            self._cache.clear()
        self._cache[key] = (now + CACHE_SECONDS, found)
        return found

    def order(self, model: str, kind: str, exclude: frozenset[str]) -> list[Candidate]:
        """The providers to try, in order: those not cooling down, starting at this model's round-robin
        turn on a first attempt (no `exclude`), then those cooling down, soonest back first."""
        cands = [c for c in self.candidates(model, kind) if c.provider not in exclude]
        health = self.health
        if health is None:
            ready, cooling = cands, []
        else:
            ready = [c for c in cands if health.cooldown_left(c.provider) <= 0]
            cooling = sorted(
                (c for c in cands if health.cooldown_left(c.provider) > 0),
                key=lambda c: health.cooldown_left(c.provider),
            )
        if ready and not exclude:
            turn = self._next_turn((model, kind)) % len(ready)
            ready = ready[turn:] + ready[:turn]
        return ready + cooling

    def _next_turn(self, key: tuple[str, str]) -> int:
        turn = self._turns.get(key, 0)
        if len(self._turns) > MAX_TRACKED_MODELS:
            self._turns.clear()
        self._turns[key] = turn + 1
        return turn
