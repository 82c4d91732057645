"""A plugin whose import fails (a dependency it needs is not installed): the hub must start without it and
show it as failed, with the error, in ``/-/plugins`` and ``aigne-hub plugins list``."""

import hubtest_missing_dependency  # noqa: F401  (missing on purpose)
