import { describe, expect, it } from "vitest";
import { parseEvents, readEvents } from "../sse";

describe("SSE parsing", () => {
  it("keeps an unfinished event for the next piece", () => {
    const first = parseEvents('data: {"a":1}\n\ndata: {"b"');
    expect(first.events).toEqual([{ event: undefined, data: '{"a":1}' }]);
    const second = parseEvents(first.rest + ':2}\n\nevent: error\ndata: {"c":3}\n\n');
    expect(second.events).toEqual([
      { event: undefined, data: '{"b":2}' },
      { event: "error", data: '{"c":3}' },
    ]);
    expect(second.rest).toBe("");
  });

  it("ignores comments and handles CRLF and multi-line data", () => {
    const { events } = parseEvents(": keep-alive\r\n\r\ndata: line1\r\ndata: line2\r\n\r\n");
    expect(events).toEqual([{ event: undefined, data: "line1\nline2" }]);
  });

  it("reads events split at arbitrary byte boundaries, including inside UTF-8 characters", async () => {
    const text = 'data: {"t":"你好"}\n\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.slice(i, i + 3));
        c.close();
      },
    });
    const got = [];
    for await (const ev of readEvents(stream)) got.push(ev.data);
    expect(got).toEqual(['{"t":"你好"}', "[DONE]"]);
  });
});
