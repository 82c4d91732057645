"""Request and answer translation between client dialects and the hub's standard (OpenAI Chat) format."""
