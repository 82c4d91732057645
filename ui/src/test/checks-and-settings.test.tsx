// The providers page's credential test / re-check, the availability column of the model-rate table and the
// plugin settings form drawn from a plugin's config schema.
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ModelRatesPage } from "../pages/ModelRates";
import { PluginsPage, toValues } from "../pages/Plugins";
import { ProvidersPage } from "../pages/Providers";
import { mockApi, renderWith } from "./helpers";

const openaiPlugin = {
  name: "openai",
  displayName: "OpenAI",
  defaultBaseUrl: "https://api.openai.com/v1",
  capabilities: ["chat"],
  credentialSchema: { required: ["api_key"], properties: { api_key: { type: "string", title: "API key", secret: true } } },
  testModel: "gpt-4.1-nano",
  plugin: "openai",
  pluginEnabled: true,
};
const cred = { id: 7, providerId: 1, name: "main", credentialType: "api_key", maskedValue: "sk-f…-key", weight: 100, active: true, error: null, usageCount: 0, lastUsedAt: null, createdAt: null };
const provider = { id: 1, name: "openai", displayName: "OpenAI", baseUrl: null, region: null, enabled: true, config: {}, plugin: "openai", pluginEnabled: true, credentials: [cred] };

describe("providers page: credential checks", () => {
  it("tests a typed credential before saving and shows the vendor's refusal", async () => {
    let tries = 0;
    const calls = mockApi({
      "GET /api/ai-providers/available": [openaiPlugin],
      "GET /api/ai-providers": [provider],
      "POST /api/ai-providers/1/credentials/test": () =>
        ++tries === 1
          ? [400, { error: { code: "invalid_credentials", message: "Invalid credentials", detail: "401 Incorrect API key" } }]
          : { success: true, model: "gpt-4.1-nano", responseTime: 42.4 },
      "POST /api/ai-providers/1/credentials": [400, { error: { code: "invalid_credential", message: "Credential refused by openai: 401 bad" } }],
    });
    renderWith(<ProvidersPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Add credential" }));
    const dialog = await screen.findByRole("dialog");
    const test = within(dialog).getByRole("button", { name: "Test credential" }) as HTMLButtonElement;
    expect(test.disabled).toBe(true); // nothing typed yet
    fireEvent.change(within(dialog).getByLabelText(/API key/), { target: { value: " sk-wrong " } });
    fireEvent.click(test);
    expect((await within(dialog).findByRole("status")).textContent).toBe("Invalid credentials: 401 Incorrect API key");
    const sent = calls.find((c) => c.url.endsWith("/credentials/test"))!;
    expect(JSON.parse(String(sent.init.body))).toEqual({ value: { api_key: "sk-wrong" } });
    fireEvent.click(test);
    await waitFor(() => expect(within(dialog).getByRole("status").textContent).toBe("Valid: gpt-4.1-nano answered in 42 ms"));
    // live validation on save refused it: the message is shown in the form
    fireEvent.click(within(dialog).getByRole("button", { name: "Save credential" }));
    expect(await within(dialog).findByText(/401 bad/)).toBeTruthy();
  });

  it("re-checks a stored credential and reloads the list with its new state", async () => {
    let checked = false;
    const calls = mockApi({
      "GET /api/ai-providers/available": [openaiPlugin],
      "GET /api/ai-providers": () => [checked ? { ...provider, credentials: [{ ...cred, active: false, error: "401 revoked" }] } : provider],
      "GET /api/ai-providers/1/credentials/7/check": () => {
        checked = true;
        return [400, { error: { code: "invalid_credential", message: "Credential refused by openai: 401 revoked" } }];
      },
    });
    renderWith(<ProvidersPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Re-check credential main" }));
    expect(await screen.findByText(/Credential refused by openai: 401 revoked/)).toBeTruthy();
    await waitFor(() => expect(screen.getByRole("switch", { name: "Credential main active" }).getAttribute("aria-checked")).toBe("false"));
    expect(screen.getByText(/Last error/).parentElement!.textContent).toContain("401 revoked");
    expect(calls.filter((c) => c.url.endsWith("/api/ai-providers")).length).toBeGreaterThanOrEqual(2);
  });
});

describe("model rates page: availability", () => {
  it("shows each model's last known availability, error and response time with a legend", async () => {
    const rate = (id: number, model: string) => ({ id, provider: "openai", model, type: "chat", inputRate: "0.000001", outputRate: "0.000002", deprecated: false });
    mockApi({
      "GET /api/ai-providers": [provider],
      "GET /api/ai-providers/model-rates": { count: 3, paging: { page: 1, pageSize: 20 }, list: [rate(1, "gpt-4o-mini"), rate(2, "gpt-4o"), rate(3, "o3")] },
      "GET /api/ai-providers/status": [
        { provider: "openai", providerId: 1, model: "gpt-4o-mini", type: "chat", available: true, error: null, responseTime: 123.4, checkedAt: "2026-01-01T00:00:00Z" },
        { provider: "openai", providerId: 1, model: "gpt-4o", type: "chat", available: false, error: { code: "rate_limited", message: "429 slow down" }, responseTime: null, checkedAt: "2026-01-01T00:00:00Z" },
      ],
    });
    renderWith(<ModelRatesPage />);
    const row = (model: string) => screen.getByText(model, { selector: "code" }).closest("tr")!;
    await screen.findByText("o3", { selector: "code" });
    await waitFor(() => expect(row("gpt-4o-mini").textContent).toContain("available"));
    expect(row("gpt-4o-mini").textContent).toContain("123 ms");
    expect(row("gpt-4o").textContent).toContain("unavailable");
    expect(row("gpt-4o").textContent).toContain("429 slow down");
    expect(row("o3").textContent).toContain("not checked");
    expect(screen.getByLabelText("Status legend").textContent).toContain("No call or check has reached this model yet.");
  });
});

describe("plugins page: settings from the config schema", () => {
  const schema = {
    type: "object",
    properties: {
      greeting: { type: "string", title: "Greeting", description: "Said to every caller." },
      mode: { type: "string", enum: ["fast", "careful"], default: "fast", title: "Mode" },
      limit: { type: "integer", title: "Limit", default: 10 },
      verbose: { type: "boolean", title: "Verbose", default: false },
    },
    required: ["greeting"],
  };
  const plugin = { name: "hubtest_settings", distribution: null, version: null, module: "m", kind: "extension", builtin: false, hooks: ["on_startup"], registered: {}, status: "enabled", enabled: true, error: null, configSchema: schema };

  it("offers settings only for plugins with a schema and saves typed values", async () => {
    const calls = mockApi({
      "GET /api/admin/plugins": [plugin, { ...plugin, name: "plain", configSchema: null }],
      "GET /api/admin/plugins/hubtest_settings/config": { name: "hubtest_settings", schema, values: { greeting: "hi" }, effective: { greeting: "hi", mode: "fast", limit: 10, verbose: false } },
      "PUT /api/admin/plugins/hubtest_settings/config": (_url: string, init: RequestInit) => ({ name: "hubtest_settings", schema, values: JSON.parse(String(init.body)), effective: {} }),
    });
    renderWith(<PluginsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Settings of hubtest_settings" }));
    expect(screen.queryByRole("button", { name: "Settings of plain" })).toBeNull();
    const dialog = await screen.findByRole("dialog");
    expect((within(dialog).getByLabelText(/Greeting/) as HTMLInputElement).value).toBe("hi");
    expect(within(dialog).getByText(/Said to every caller/)).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText(/Mode/), { target: { value: "careful" } });
    fireEvent.change(within(dialog).getByLabelText(/Limit/), { target: { value: "3" } });
    fireEvent.click(within(dialog).getByLabelText(/Verbose/));
    fireEvent.click(within(dialog).getByRole("button", { name: "Save settings" }));
    expect(await within(dialog).findByText(/Settings saved/)).toBeTruthy();
    const put = calls.find((c) => c.method === "PUT")!;
    expect(JSON.parse(String(put.init.body))).toEqual({ greeting: "hi", mode: "careful", limit: 3, verbose: true });
  });

  it("shows the hub's validation error naming the field", async () => {
    mockApi({
      "GET /api/admin/plugins": [plugin],
      "GET /api/admin/plugins/hubtest_settings/config": { name: "hubtest_settings", schema, values: {}, effective: {} },
      "PUT /api/admin/plugins/hubtest_settings/config": [400, { error: { code: "invalid_request", message: "greeting is required" } }],
    });
    renderWith(<PluginsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Settings of hubtest_settings" }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.submit(within(dialog).getByRole("button", { name: "Save settings" }).closest("form")!);
    expect(await within(dialog).findByText("greeting is required")).toBeTruthy();
  });

  it("never shows a secret setting, keeps it when left empty and sends a new one", async () => {
    const secretSchema = { ...schema, properties: { ...schema.properties, token: { type: "string", title: "Token", writeOnly: true } } };
    const calls = mockApi({
      "GET /api/admin/plugins": [{ ...plugin, configSchema: secretSchema }],
      "GET /api/admin/plugins/hubtest_settings/config": { name: "hubtest_settings", schema: secretSchema, secretFields: ["token"], values: { greeting: "hi", token: "tok…890" }, effective: {} },
      "PUT /api/admin/plugins/hubtest_settings/config": (_url: string, init: RequestInit) => ({ name: "hubtest_settings", schema: secretSchema, values: JSON.parse(String(init.body)), effective: {} }),
    });
    renderWith(<PluginsPage />);
    fireEvent.click(await screen.findByRole("button", { name: "Settings of hubtest_settings" }));
    const dialog = await screen.findByRole("dialog");
    const token = within(dialog).getByLabelText(/Token/) as HTMLInputElement;
    expect(token.type).toBe("password");
    expect(token.value).toBe("");
    expect(token.placeholder).toContain("tok…890");
    fireEvent.click(within(dialog).getByRole("button", { name: "Save settings" }));
    expect(await within(dialog).findByText(/Settings saved/)).toBeTruthy();
    expect(JSON.parse(String(calls.filter((c) => c.method === "PUT")[0].init.body))).not.toHaveProperty("token");
    fireEvent.change(token, { target: { value: "tok-new-secret" } });
    fireEvent.click(within(dialog).getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PUT").length).toBe(2));
    expect(JSON.parse(String(calls.filter((c) => c.method === "PUT")[1].init.body)).token).toBe("tok-new-secret");
  });

  it("sends empty fields as null so the default applies", () => {
    expect(toValues(schema as never, { greeting: "", mode: "", limit: "", verbose: false })).toEqual({ greeting: null, mode: null, limit: null, verbose: false });
  });
});
