"""Default usage logging: every finished call goes to the batched database writer."""

from __future__ import annotations

from hub_core.hookspecs import hookimpl
from hub_core.types import CallRecord
from hub_core.usage.writer import UsageLogWriter


class UsageLogPlugin:
    def __init__(self, writer: UsageLogWriter) -> None:
        self.writer = writer

    @hookimpl(trylast=True)
    def on_call_finished(self, record: CallRecord) -> None:
        self.writer.enqueue(record)
