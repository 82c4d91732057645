"""ASGI entry point for multi-worker serving (``hypercorn hub_core.asgi:app``)."""

from hub_core.app import create_app

app = create_app()
