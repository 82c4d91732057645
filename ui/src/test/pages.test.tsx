import { fireEvent, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Shell } from "../App";
import { PluginsPage } from "../pages/Plugins";
import { ProvidersPage } from "../pages/Providers";
import { SignInPage } from "../pages/SignIn";
import { UsagePage } from "../pages/Usage";
import { member, mockApi, owner, renderWith } from "./helpers";

const openaiPlugin = {
  name: "openai",
  displayName: "OpenAI",
  defaultBaseUrl: "https://api.openai.com/v1",
  capabilities: ["chat", "embedding", "image"],
  credentialSchema: { required: ["api_key"], properties: { api_key: { type: "string", title: "API key", secret: true } } },
  testModel: "gpt-4.1-nano",
  plugin: "openai",
  pluginEnabled: true,
};

describe("sign-in page", () => {
  it("shows the hub's error for a wrong key and signs in with a right one", async () => {
    let attempts = 0;
    const calls = mockApi({
      "POST /api/auth/session": () => (++attempts === 1 ? [401, { error: { message: "Unauthorized: invalid or missing access key" } }] : owner),
    });
    renderWith(<SignInPage />, { session: null, path: "/signin?next=/console/plugins" });
    const input = screen.getByLabelText("Access key");
    fireEvent.change(input, { target: { value: "ahk-wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toMatch(/invalid or missing access key/);
    fireEvent.change(input, { target: { value: "ahk-right" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(window.location.pathname).toBe("/console/plugins"));
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ key: "ahk-right" });
  });
});

describe("shell", () => {
  it("sends a visitor to the sign-in page, remembering where they were going", async () => {
    mockApi({ "GET /api/auth/session": [401, { error: { message: "Unauthorized" } }] });
    renderWith(<Shell />, { session: "fetch", path: "/console/providers" });
    await screen.findByRole("heading", { name: "Sign in to AIGNE Hub" });
    expect(window.location.pathname + window.location.search).toBe("/signin?next=%2Fconsole%2Fproviders");
  });

  it("keeps members out of the admin console and hides its navigation", async () => {
    mockApi({});
    renderWith(<Shell />, { session: member, path: "/console/providers" });
    expect(await screen.findByRole("heading", { name: "Administrators only" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Providers" })).toBeNull();
    expect(screen.getByRole("link", { name: "My account" })).toBeTruthy();
  });

  it("leaves the public pricing page open to visitors", async () => {
    mockApi({
      "GET /api/auth/session": [401, { error: { message: "Unauthorized" } }],
      "GET /api/ai-providers/models": [
        { key: "openai/gpt-4o-mini", model: "gpt-4o-mini", type: "chat", provider: "openai", input_credits_per_token: "0.00000015", output_credits_per_token: "0.0000006" },
      ],
    });
    renderWith(<Shell />, { session: "fetch", path: "/pricing" });
    expect(await screen.findByText("openai/gpt-4o-mini")).toBeTruthy();
    expect(screen.getByText("0.15")).toBeTruthy();
    expect(window.location.pathname).toBe("/pricing");
  });
});

describe("providers page", () => {
  it("lists installed plugins, configured or not, with masked credentials and health", async () => {
    mockApi({
      "GET /api/ai-providers/available": [openaiPlugin, { ...openaiPlugin, name: "anthropic", displayName: "Anthropic", plugin: "anthropic" }],
      "GET /api/ai-providers": [
        {
          id: 1,
          name: "openai",
          displayName: "OpenAI",
          baseUrl: null,
          region: null,
          enabled: true,
          config: {},
          plugin: "openai",
          pluginEnabled: true,
          credentials: [
            { id: 1, providerId: 1, name: "main", credentialType: "api_key", maskedValue: "sk-f…-key", weight: 100, active: false, error: "401 Incorrect API key", usageCount: 3, lastUsedAt: null, createdAt: null },
          ],
        },
      ],
    });
    renderWith(<ProvidersPage />);
    const openai = await screen.findByRole("article", { name: "OpenAI" });
    expect(openai.textContent).toContain("sk-f…-key");
    expect(openai.textContent).toContain("All credentials failing");
    expect(openai.textContent).toContain("401 Incorrect API key");
    const anthropic = screen.getByRole("article", { name: "Anthropic" });
    expect(anthropic.textContent).toContain("Not configured");
    fireEvent.click(screen.getByRole("button", { name: "Add Anthropic" }));
    expect(await screen.findByRole("dialog")).toBeTruthy();
    expect((screen.getByLabelText(/API key/) as HTMLInputElement).type).toBe("password");
  });
});

describe("plugins page", () => {
  it("shows load errors and toggles a plugin", async () => {
    const calls = mockApi({
      "GET /api/admin/plugins": [
        { name: "openai", distribution: "aigne-hub-provider-openai", version: "0.1.0", module: "m", kind: "provider", builtin: false, hooks: ["register_providers"], registered: { providers: ["openai"] }, status: "enabled", enabled: true, error: null },
        { name: "broken", distribution: "x", version: "1.0", module: "m", kind: "extension", builtin: false, hooks: [], registered: {}, status: "failed", enabled: false, error: "ImportError: no module named nope" },
      ],
      "PUT /api/admin/plugins/openai": { name: "openai", distribution: "aigne-hub-provider-openai", version: "0.1.0", module: "m", kind: "provider", builtin: false, hooks: [], registered: { providers: ["openai"] }, status: "disabled", enabled: false, error: null },
    });
    renderWith(<PluginsPage />);
    expect(await screen.findByText("ImportError: no module named nope")).toBeTruthy();
    expect(screen.getByText("providers: openai")).toBeTruthy();
    const toggle = screen.getByRole("switch", { name: "Enable plugin openai" });
    fireEvent.click(toggle);
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("false"));
    expect(JSON.parse(String(calls.at(-1)!.init.body))).toEqual({ enabled: false });
    expect((screen.getByRole("switch", { name: "Enable plugin broken" }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("usage page", () => {
  it("says so when the analytics API is not there", async () => {
    mockApi({});
    renderWith(<UsagePage scope="all" />);
    expect((await screen.findByTestId("not-available")).textContent).toContain("Usage analytics is not available");
  });

  it("asks the server for one page of calls at a time with the filters", async () => {
    const stats = { calls: 3, successCalls: 2, successRate: 66.67, avgDuration: 0.5, totalCredits: 0, inputTokens: 10, outputTokens: 20, totalUsage: 30 };
    const calls = mockApi({
      "GET /api/usage/summary": stats,
      "GET /api/usage/trends": { trends: [{ timestamp: 1767225600, ...stats }], granularity: "day" },
      "GET /api/usage/models": { modelStats: { list: [{ provider: "openai", model: "gpt-4o-mini", totalCalls: 3 }] } },
      "GET /api/usage/projects": { projects: [], total: 0, page: 1, pageSize: 10 },
      "GET /api/usage/calls": {
        count: 45,
        paging: { page: 1, pageSize: 20 },
        list: [{ id: 9, requestId: "r9", createdAt: "2026-01-01T00:00:00Z", model: "openai/gpt-4o-mini", type: "chat", status: "success", usageMetrics: { inputTokens: 10, outputTokens: 20 }, credits: "0", durationMs: 500, appDid: null }],
      },
    });
    renderWith(<UsagePage scope="all" />);
    expect(await screen.findByText("66.7%")).toBeTruthy();
    expect(await screen.findByText("openai/gpt-4o-mini", { selector: "code" })).toBeTruthy();
    expect(screen.getByText("Top models by calls")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "failed" } });
    await waitFor(() => expect(calls.some((c) => c.url.includes("/api/usage/calls") && c.url.includes("status=failed"))).toBe(true));
    const last = new URL(calls.filter((c) => c.url.includes("/api/usage/calls")).at(-1)!.url, "http://x");
    expect(last.searchParams.get("pageSize")).toBe("20");
    expect(last.searchParams.get("allUsers")).toBe("true");
  });
});
