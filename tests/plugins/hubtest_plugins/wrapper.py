"""A plugin that implements a hook as a pluggy wrapper, which the hub does not support: refused at load
time."""

from __future__ import annotations

from collections.abc import Generator

from hub_core import Caller, Route, hookimpl


@hookimpl(wrapper=True)
def select_route(model: str, kind: str, caller: Caller) -> Generator[None, Route | None, Route | None]:
    return (yield)
