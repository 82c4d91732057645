"""Infrastructure: JSON on the hot path, logging, crypto, access-key hashing, the upstream HTTP client and the
plugin host. Imports only the contracts below it."""
