"""ASGI entry point for multi-worker serving (``hypercorn hub_core.web.asgi:app``)."""

from hub_core.web.app import create_app, tune_gc_for_serving

app = create_app()
tune_gc_for_serving(app)
