"""ASGI entry point for multi-worker serving (``hypercorn hub_core.asgi:app``)."""

from hub_core.app import create_app, tune_gc_for_serving

app = create_app()
tune_gc_for_serving(app)
