"""ASGI entry point for multi-worker serving (``hypercorn hub_core.web.asgi:app``)."""

from hub_core.web import hypercorn_overrides
from hub_core.web.app import create_app, tune_gc_for_serving

hypercorn_overrides.install()  # each worker imports this module before it serves
app = create_app()
tune_gc_for_serving(app)
