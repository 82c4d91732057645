import { describe, expect, it } from "vitest";
import { chatBody, paramsError, parseTools, snippets, DEFAULT_PARAMS } from "../components/chatRequest";
import { chartMax, tickDigits } from "../components/charts";

describe("chat request", () => {
  it("sends only the parameters that were set", () => {
    const body = chatBody("openai/gpt-4o-mini", [{ role: "user", content: "hi" }], { ...DEFAULT_PARAMS, temperature: "0", json: true }, false);
    expect(body).toEqual({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0,
      response_format: { type: "json_object" },
    });
  });

  it("refuses values the API would refuse", () => {
    expect(paramsError({ ...DEFAULT_PARAMS, temperature: "2.5" })).toMatch(/Temperature/);
    expect(paramsError({ ...DEFAULT_PARAMS, topP: "-1" })).toMatch(/Top-p/);
    expect(paramsError({ ...DEFAULT_PARAMS, maxTokens: "1.5" })).toMatch(/Max tokens/);
    expect(parseTools('{"type": "function"}').error).toMatch(/array/);
    expect(paramsError({ ...DEFAULT_PARAMS, temperature: "1", topP: "0.5", maxTokens: "10" })).toBeNull();
  });

  it("writes Python literals and quotes the shell", () => {
    const code = snippets({ model: "m", messages: [{ role: "user", content: "it's" }], stream: false }, "http://hub/v1");
    expect(code.python).toContain("stream=False");
    expect(code.curl).toContain(`'\\''`); // the apostrophe survives single quotes
    expect(code.javascript).toContain('fetch("http://hub/v1/chat/completions"');
  });
});

describe("chart scale", () => {
  it("follows small values instead of a floor of 1", () => {
    expect(chartMax([0.002, 0.001])).toBe(0.002);
    expect(chartMax([0, 0])).toBe(1);
    expect(tickDigits(0.002)).toBe(4);
    expect(tickDigits(250)).toBe(0);
  });
});
