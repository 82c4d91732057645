"""Admin operations shared by the admin API and the CLI; each one validates, writes and bumps the config
generation so running hubs pick the change up."""
