"""The call pipeline: per-call context, the gateway (authenticate, route, admit, call, normalize, finish),
failover between attempts, stream relay and video jobs."""
