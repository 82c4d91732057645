"""ASGI entry point for multi-worker serving (``hypercorn hub_core.asgi:app``)."""

from hub_core.app import create_app, freeze_heap_after_start

app = create_app()
freeze_heap_after_start(app)
