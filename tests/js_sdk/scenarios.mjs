// Drives the published @aigne/aigne-hub SDK (installed in ../js) against a live hub.
//
//   node scenarios.mjs <scenario>...      env: HUB_URL (origin, any path is ignored by the SDK), HUB_KEY
//
// Prints one JSON object: {<scenario>: <what the SDK returned> | {"error": <message the SDK raised>}}.
// The Python tests (tests/test_aigne_sdk.py) start the hub and assert on this report.
import { createRequire } from "node:module";

const require = createRequire(new URL("../js/package.json", import.meta.url));
const { AIGNEHubChatModel, AIGNEHubImageModel, AIGNEHubVideoModel } = require("@aigne/aigne-hub");
const { AIGNE, AIAgent, FunctionAgent } = require("@aigne/core");
const { z } = require("zod");

const baseURL = process.env.HUB_URL;
const apiKey = process.env.HUB_KEY;
const chatModel = (model = "aignehub/openai/gpt-4o-mini", key = apiKey) =>
  new AIGNEHubChatModel({ baseURL, apiKey: key, model });

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the weather of a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

// Reads a streamed answer the way AIGNE apps do: text deltas appended, JSON deltas merged.
async function readStream(stream) {
  const output = {};
  const textDeltas = [];
  for await (const chunk of stream) {
    const delta = chunk.delta ?? {};
    for (const [key, value] of Object.entries(delta.text ?? {})) {
      if (key === "text") textDeltas.push(value);
    }
    Object.assign(output, delta.json ?? {});
  }
  return { output, textDeltas };
}

const scenarios = {
  async chat() {
    return chatModel().invoke({
      messages: [
        { role: "system", content: "You are the acceptance-test assistant." },
        { role: "user", content: "Please say hello" },
      ],
    });
  },

  async stream() {
    const stream = await chatModel().invoke(
      { messages: [{ role: "user", content: "count to three please" }] },
      { streaming: true },
    );
    return readStream(stream);
  },

  async multiturn() {
    return chatModel().invoke({
      messages: [
        { role: "system", content: "Answer briefly." },
        { role: "user", content: "What is two plus two?" },
        { role: "agent", content: "Four." },
        { role: "user", content: "And three plus three?" },
      ],
    });
  },

  async tools() {
    const model = chatModel();
    const first = await model.invoke({
      messages: [{ role: "user", content: "What is the weather in Paris?" }],
      tools: [weatherTool],
      toolChoice: "auto",
    });
    const call = first.toolCalls[0];
    const second = await model.invoke({
      messages: [
        { role: "user", content: "What is the weather in Paris?" },
        { role: "agent", toolCalls: [call] },
        { role: "tool", toolCallId: call.id, content: JSON.stringify({ weather: "sunny" }) },
      ],
      tools: [weatherTool],
    });
    return { first, second };
  },

  // A whole agent loop: the model asks for the tool, the framework runs it, the model answers.
  async agent() {
    const getWeather = FunctionAgent.from({
      name: "get_weather",
      description: "Get the weather of a city",
      inputSchema: z.object({ city: z.string() }),
      process: ({ city }) => ({ weather: `sunny in ${city}` }),
    });
    const aigne = new AIGNE({ model: chatModel() });
    const agent = AIAgent.from({
      instructions: "Use tools when useful.",
      inputKey: "message",
      skills: [getWeather],
    });
    const context = aigne.newContext();
    const result = await context.invoke(agent, { message: "weather in Paris?" });
    return { result, usage: context.usage };
  },

  async json() {
    return chatModel().invoke({
      messages: [{ role: "user", content: "Give me an answer" }],
      responseFormat: {
        type: "json_schema",
        jsonSchema: {
          name: "answer",
          schema: {
            type: "object",
            properties: { answer: { type: "string" } },
            required: ["answer"],
            additionalProperties: false,
          },
          strict: true,
        },
      },
    });
  },

  async reasoning() {
    return chatModel("aignehub/openai/reasoning-mini").invoke({
      messages: [{ role: "user", content: "think hard" }],
      modelOptions: { reasoningEffort: "high" },
    });
  },

  async image() {
    const model = new AIGNEHubImageModel({ baseURL, apiKey, model: "aignehub/openai/dall-e-3" });
    const asUrl = await model.invoke({ prompt: "A small red square", outputFileType: "url" });
    const fetched = await fetch(asUrl.images[0].url); // no credentials, as the SDK itself downloads
    // With outputFileType "file" the SDK downloads the hub's URL itself and inlines it.
    const asFile = await model.invoke({ prompt: "A small red square", outputFileType: "file" });
    return {
      asUrl,
      fetched: { status: fetched.status, type: fetched.headers.get("content-type") },
      asFile: { type: asFile.images[0].type, bytes: Buffer.from(asFile.images[0].data, "base64").length },
    };
  },

  async video() {
    const model = new AIGNEHubVideoModel({ baseURL, apiKey, model: "aignehub/openai/sora-2" });
    return model.invoke({ prompt: "A cat on a piano", seconds: "4", outputFileType: "url" });
  },

  async models() {
    // The static helpers read the hub's address from the environment only.
    process.env.BLOCKLET_AIGNE_API_URL = baseURL;
    return { chat: await AIGNEHubChatModel.models(), image: await AIGNEHubImageModel.models() };
  },

  async badKey() {
    return chatModel("aignehub/openai/gpt-4o-mini", "ahk-not-a-real-key").invoke({
      messages: [{ role: "user", content: "hi" }],
    });
  },

  async unknownModel() {
    return chatModel("aignehub/nonexistent/definitely-not-a-model").invoke({
      messages: [{ role: "user", content: "hi" }],
    });
  },

  async streamError() {
    const stream = await chatModel("aignehub/openai/stream-error").invoke(
      { messages: [{ role: "user", content: "one two three four five" }] },
      { streaming: true },
    );
    return readStream(stream);
  },
};

const report = {};
for (const name of process.argv.slice(2)) {
  const run = scenarios[name];
  if (!run) {
    report[name] = { error: `unknown scenario ${name}` };
    continue;
  }
  try {
    report[name] = await run();
  } catch (error) {
    report[name] = { error: error.message, type: error.type ?? null };
  }
}
process.stdout.write(`${JSON.stringify(report)}\n`);
