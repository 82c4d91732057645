// Reads an OpenAI-style server-sent event stream (`data: {...}` events, `data: [DONE]` at the end).

export interface SSEEvent {
  event?: string;
  data: string;
}

/** Split a growing text buffer into complete events; returns the events and the unfinished rest. */
export function parseEvents(buffer: string): { events: SSEEvent[]; rest: string } {
  const events: SSEEvent[] = [];
  const normalized = buffer.replace(/\r\n/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SSEEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const { events, rest } = parseEvents(buffer);
      buffer = rest;
      yield* events;
    }
    const { events } = parseEvents(buffer + "\n\n");
    yield* events;
  } finally {
    reader.releaseLock();
  }
}
