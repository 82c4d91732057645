"""The web layer: the Quart app factory, the per-request ASGI handler, the blueprints of every API dialect
and the console."""
