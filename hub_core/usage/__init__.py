"""Usage: the batched usage-log writer and the hourly/daily rollups behind the analytics API."""
