"""The runtime snapshot of the configuration (providers, credentials, plugins, access-key cache) each hub
keeps in memory, and the generation counter that tells running hubs to reload it."""
