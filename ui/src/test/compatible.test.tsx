import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ProvidersPage } from "../pages/Providers";
import { mockApi, renderWith } from "./helpers";

const endpoint = {
  id: 7,
  name: "vllm",
  kind: "openai_compatible",
  displayName: "GPU box",
  baseUrl: "http://gpu-box:8000/v1",
  region: null,
  enabled: true,
  config: { models: ["qwen2.5-72b"] },
  plugin: "openai_compatible",
  pluginEnabled: true,
  credentials: [],
};

describe("OpenAI-compatible endpoints on the providers page", () => {
  it("shows a stored endpoint as such, with a test call on its first model", async () => {
    mockApi({ "GET /api/ai-providers/available": [], "GET /api/ai-providers": [endpoint] });
    renderWith(<ProvidersPage />);
    const card = await screen.findByRole("article", { name: "GPU box" });
    expect(card.textContent).toContain("OpenAI-compatible endpoint");
    expect(card.textContent).not.toContain("Its plugin is not installed");
    expect(card.textContent).toContain("http://gpu-box:8000/v1");
    expect(screen.getByRole("button", { name: "Test" })).toBeTruthy();
  });

  it("adds one: discovers its models, then saves name, URL, key and models", async () => {
    const calls = mockApi({
      "GET /api/ai-providers/available": [],
      "GET /api/ai-providers": [],
      "POST /api/ai-providers/discover": { baseUrl: "http://localhost:8000/v1", models: ["m-a", "m-b"] },
      "POST /api/ai-providers": [201, { ...endpoint, name: "local", discoveredModels: [] }],
    });
    renderWith(<ProvidersPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add OpenAI-compatible endpoint" }));
    const dialog = await screen.findByRole("dialog");
    expect(dialog).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: "local" } });
    fireEvent.change(screen.getByLabelText(/^Base URL/), { target: { value: "http://localhost:8000/v1" } });
    const key = screen.getByLabelText(/^API key/) as HTMLInputElement;
    expect(key.type).toBe("password");
    fireEvent.change(key, { target: { value: "sk-local-123" } });
    fireEvent.click(screen.getByRole("button", { name: "Discover models" }));
    expect(await screen.findByText("2 models found")).toBeTruthy();
    expect((screen.getByLabelText(/^Models/) as HTMLInputElement).value).toBe("m-a, m-b");
    const asked = calls.find((c) => c.method === "POST" && c.url.endsWith("/api/ai-providers/discover"));
    expect(JSON.parse(String(asked?.init.body))).toEqual({ baseUrl: "http://localhost:8000/v1", apiKey: "sk-local-123" });

    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const saved = calls.find((c) => c.method === "POST" && c.url.endsWith("/api/ai-providers"));
    expect(JSON.parse(String(saved?.init.body))).toEqual({
      kind: "openai_compatible",
      name: "local",
      baseUrl: "http://localhost:8000/v1",
      apiKey: "sk-local-123",
      models: ["m-a", "m-b"],
      verify: true,
    });
  });

  it("shows the hub's refusal in the form", async () => {
    mockApi({
      "GET /api/ai-providers/available": [],
      "GET /api/ai-providers": [],
      "POST /api/ai-providers": [
        409,
        { error: { message: "Provider name 'openai' belongs to the installed plugin 'openai'; choose another name", code: "provider_name_taken", type: "invalid_request_error" } },
      ],
    });
    renderWith(<ProvidersPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add OpenAI-compatible endpoint" }));
    fireEvent.change(await screen.findByLabelText(/^Name/), { target: { value: "openai" } });
    fireEvent.change(screen.getByLabelText(/^Base URL/), { target: { value: "http://localhost:8000/v1" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/belongs to the installed plugin 'openai'/)).toBeTruthy();
    expect(screen.getByRole("dialog")).toBeTruthy();
  });
});

describe("quick start with only an OpenAI-compatible endpoint", () => {
  it("counts a keyless endpoint as a configured provider", async () => {
    const { QuickStartPage } = await import("../pages/QuickStart");
    mockApi({
      "GET /api/ai-providers/available": [],
      "GET /api/ai-providers": [endpoint],
      "GET /api/admin/plugins": [],
      "GET /v1/models": { object: "list", data: [{ id: "vllm/qwen2.5-72b", object: "model" }] },
    });
    renderWith(<QuickStartPage />);
    expect(await screen.findByText("Ready: GPU box")).toBeTruthy();
  });
});
