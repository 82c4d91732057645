// TEMPORARY (refactor check, not to be kept): renders every page with mock data and writes the DOM to
// $SNAP_DIR so the markup before and after a refactor can be diffed.
import { fireEvent, screen } from "@testing-library/react";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it, vi } from "vitest";
import { AccountPage } from "../pages/Account";
import { CreditsPage } from "../pages/Credits";
import { ModelRatesPage } from "../pages/ModelRates";
import { PluginsPage } from "../pages/Plugins";
import { PricingPage } from "../pages/Pricing";
import { ProvidersPage } from "../pages/Providers";
import { UsagePage } from "../pages/Usage";
import { UsersPage } from "../pages/Users";
import { member, mockApi, renderWith } from "./helpers";

const DIR = process.env.SNAP_DIR ?? "/tmp/ui-snap";

function serialize(node: Node, out: string[], depth: number) {
  const pad = "  ".repeat(depth);
  if (node.nodeType === Node.TEXT_NODE) {
    const text = (node.textContent ?? "").trim();
    if (text) out.push(pad + JSON.stringify(node.textContent));
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const el = node as Element;
  const attrs = [...el.attributes].map((a) => `${a.name}="${a.value}"`).sort();
  if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)
    attrs.push(`.value="${el.value}"`);
  if (el instanceof HTMLInputElement && el.type === "checkbox") attrs.push(`.checked=${el.checked}`);
  out.push(`${pad}<${el.tagName.toLowerCase()}${attrs.length ? " " + attrs.join(" ") : ""}>`);
  for (const child of el.childNodes) serialize(child, out, depth + 1);
}

function snap(name: string) {
  mkdirSync(DIR, { recursive: true });
  const ids = new Map<string, string>();
  const out: string[] = [];
  serialize(document.body, out, 0);
  const html = out
    .join("\n")
    .replace(/(«r\w+»|:r\w+:|_r_\w+_)/g, (m) => {
      if (!ids.has(m)) ids.set(m, `ID${ids.size}`);
      return ids.get(m)!;
    });
  writeFileSync(path.join(DIR, `${name}.html`), html);
}

const page = <T,>(list: T[], count = list.length) => ({ list, count, paging: { page: 1, pageSize: 10 } });
const users = [
  { id: 1, did: "z1", name: "owner", email: "o@x.io", role: "owner", disabled: false, createdAt: "2026-01-01T00:00:00Z" },
  { id: 2, did: "z2", name: "bob", email: null, role: "member", disabled: true, createdAt: "2026-01-02T00:00:00Z" },
];
const keys = [
  { id: 1, userId: 1, name: "live", prefix: "ahk-a", maskedKey: "ahk-a…", role: "owner", status: "active", createdAt: "2026-01-01T00:00:00Z", expiresAt: null, revokedAt: null, lastUsedAt: null, current: true },
  { id: 2, userId: 2, name: "old", prefix: "ahk-b", maskedKey: "ahk-b…", role: "member", status: "revoked", createdAt: "2026-01-01T00:00:00Z", expiresAt: "2026-12-31T00:00:00Z", revokedAt: null, lastUsedAt: "2026-01-03T00:00:00Z" },
  { id: 3, userId: 2, name: "exp", prefix: "ahk-c", maskedKey: "ahk-c…", role: "member", status: "expired", createdAt: "2026-01-01T00:00:00Z", expiresAt: "2026-01-31T00:00:00Z", revokedAt: null, lastUsedAt: null },
];
const ledger = [
  { id: 1, userId: 2, kind: "grant", amount: "25", balanceAfter: "25", reason: "welcome", createdAt: "2026-01-01T00:00:00Z" },
  { id: 2, userId: 2, kind: "charge", amount: "-0.5", balanceAfter: "24.5", reason: null, requestId: "abcdef123456", createdAt: "2026-01-02T00:00:00Z" },
];
const providers = [
  {
    id: 1, name: "openai", displayName: "OpenAI", baseUrl: null, region: "us", enabled: true, config: { models: ["a", "b"] }, plugin: "openai", pluginEnabled: true,
    credentials: [
      { id: 1, providerId: 1, name: "main", credentialType: "api_key", maskedValue: "sk-f…-key", weight: 100, active: false, error: "401 bad", usageCount: 3, lastUsedAt: null, createdAt: null },
      { id: 2, providerId: 1, name: "backup", credentialType: "api_key", maskedValue: "sk-g…-key", weight: 50, active: true, error: null, usageCount: 1234, lastUsedAt: "2026-01-01T00:00:00Z", createdAt: null },
    ],
  },
  { id: 2, name: "ghost", displayName: "Ghost", baseUrl: "http://g", region: null, enabled: false, config: {}, plugin: null, pluginEnabled: false, credentials: [] },
];
const plugin = {
  name: "openai", displayName: "OpenAI", defaultBaseUrl: "https://api.openai.com/v1", capabilities: ["chat", "image"],
  credentialSchema: { required: ["api_key"], properties: { api_key: { type: "string", title: "API key", secret: true } } },
  testModel: "gpt-4.1-nano", plugin: "openai", pluginEnabled: true,
};
const available = [plugin, { ...plugin, name: "anthropic", displayName: "Anthropic", plugin: "anthropic", testModel: null }];
const rates = [
  { id: 1, provider: "openai", model: "gpt-4o-mini", kind: "chat", type: "chat", modelDisplay: "GPT 4o mini", inputRate: "0.00000015", outputRate: "0.0000006", caching: { readRate: "0.0000001", writeRate: null }, unitCosts: { input: "0.00000015", output: null } },
  { id: 2, provider: "openai", model: "dall-e-3", kind: "image", type: "image", inputRate: "0", outputRate: "4", deprecated: true },
  { id: 3, provider: "openai", model: "x", kind: "chat", type: "chat", inputRate: "0", outputRate: "0", status: { available: false } },
];
const billingConfig = {
  active: "credits", rates: 3,
  modes: [
    { name: "free", displayName: "Free", charges: false, plugin: "billing-free", pluginEnabled: true },
    { name: "credits", displayName: "Credits", description: "charges", charges: true, plugin: "billing-credits", pluginEnabled: true, settingsSchema: { properties: { creditPrefix: { type: "string", title: "Prefix" }, minBalance: { type: "number" }, mode: { enum: ["", "a"] } } }, settings: { creditPrefix: "$", minBalance: 2 } },
  ],
};
const accounts = [
  { userId: 2, userName: "bob", balance: "24.5", pendingCredit: "0.1", total: "25", used: "0.5" },
  { userId: 9, userName: null, balance: "1", pendingCredit: "0", total: "1", used: "0" },
];
const stats = { calls: 3, successCalls: 2, successRate: 66.67, avgDuration: 0.5, totalCredits: 1.5, inputTokens: 10, outputTokens: 20, totalUsage: 30 };
const calls = [
  { id: 9, requestId: "r9", createdAt: "2026-01-01T00:00:00Z", model: "gpt-4o-mini", provider: "openai", type: "chat", status: "success", usageMetrics: { inputTokens: 10, outputTokens: 20 }, credits: "0.5", durationMs: 500, appDid: null },
  { id: 10, requestId: "r10", createdAt: "2026-01-01T00:00:00Z", model: "openai/gpt-4o", type: "chat", status: "failed", errorReason: "boom", usageMetrics: {}, appDid: "app1" },
];
const usageRoutes = (withData: boolean) => ({
  "GET /api/usage/summary": stats,
  "GET /api/usage/trends": { trends: [{ timestamp: 1767225600, ...stats }], granularity: "day" },
  "GET /api/usage/models": { modelStats: { list: [{ provider: "openai", model: "gpt-4o-mini", totalCalls: 3 }] } },
  "GET /api/usage/projects": withData
    ? { projects: [{ appDid: "app1", appName: "App One", totalCalls: 2, totalCredits: 1, successRate: 50, lastCallTime: 1767225600 }, { appDid: null, totalCalls: 1, totalCredits: 0, successRate: 100, lastCallTime: 0 }], total: 12, page: 1, pageSize: 10 }
    : { projects: [], total: 0, page: 1, pageSize: 10 },
  "GET /api/usage/calls": withData ? page(calls, 45) : page([], 0),
});

async function settle() {
  await new Promise((r) => setTimeout(r, 50));
}

describe("snapshots", () => {
  it("users", async () => {
    mockApi({ "GET /api/admin/users": page(users, 12), "GET /api/admin/keys": page(keys, 3) });
    renderWith(<UsersPage />);
    await screen.findAllByText("bob");
    await screen.findByText("exp");
    await settle();
    snap("users");
    fireEvent.click(screen.getAllByRole("button", { name: "Show keys" })[1]);
    await settle();
    snap("users-filtered");
    fireEvent.click(screen.getByRole("button", { name: "New user" }));
    snap("users-new-user");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getByRole("button", { name: "New key" }));
    snap("users-new-key");
    fireEvent.change(screen.getByLabelText("Belongs to"), { target: { value: "1" } });
    snap("users-new-key-existing");
  });

  it("users error", async () => {
    mockApi({ "GET /api/admin/users": [500, { error: { message: "db down" } }], "GET /api/admin/keys": page([], 0) });
    renderWith(<UsersPage />);
    await screen.findByText(/db down/);
    await settle();
    snap("users-error");
  });

  it("account", async () => {
    vi.spyOn(Date.prototype, "toISOString").mockReturnValue("2026-01-01T00:00:00.000Z");
    mockApi({
      "GET /api/me/keys": page(keys.slice(0, 2), 2),
      "GET /api/usage/quota": { enableCredit: true, remaining: "24.5", used: "0.5", pendingCredit: "0", dailyAvgCredits: 0.1, estimatedDaysRemaining: 245, creditPrefix: "$" },
      "GET /api/user/credit/transactions": page(ledger, 2),
    });
    renderWith(<AccountPage />, { session: member });
    await screen.findByText("old");
    await screen.findByText("welcome");
    await settle();
    snap("account");
    fireEvent.click(screen.getByRole("button", { name: "New key" }));
    snap("account-new-key");
  });

  it("account without credits", async () => {
    mockApi({ "GET /api/me/keys": page([], 0), "GET /api/usage/quota": { enableCredit: false } });
    renderWith(<AccountPage />, { session: member });
    await screen.findByTestId("credits-unavailable");
    await settle();
    snap("account-nocredits");
  });

  it("rates", async () => {
    mockApi({ "GET /api/ai-providers": providers, "GET /api/ai-providers/model-rates": page(rates, 23) });
    renderWith(<ModelRatesPage />);
    await screen.findByText("dall-e-3");
    await settle();
    snap("rates");
    fireEvent.click(screen.getByRole("button", { name: "New rate" }));
    snap("rates-new");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getAllByRole("button", { name: "Edit" })[1]);
    snap("rates-edit-image");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getByRole("button", { name: "Bulk re-pricing" }));
    snap("rates-reprice");
  });

  it("rates empty and unavailable", async () => {
    mockApi({ "GET /api/ai-providers": providers, "GET /api/ai-providers/model-rates": page([], 0) });
    const r = renderWith(<ModelRatesPage />);
    await screen.findByText("No model rates yet.");
    await settle();
    snap("rates-empty");
    r.unmount();
    mockApi({ "GET /api/ai-providers": providers });
    renderWith(<ModelRatesPage />);
    await screen.findByTestId("not-available");
    await settle();
    snap("rates-unavailable");
  });

  it("credits", async () => {
    vi.spyOn(Date.prototype, "toISOString").mockReturnValue("2026-01-01T00:00:00.000Z");
    mockApi({
      "GET /api/admin/billing": billingConfig,
      "GET /api/admin/credits/accounts": page(accounts, 2),
      "GET /api/admin/users": page(users, 2),
      "GET /api/admin/credits/accounts/2/ledger": page(ledger, 2),
    });
    renderWith(<CreditsPage />);
    await screen.findByText("24.5");
    await screen.findByRole("button", { name: "Grant to owner" });
    await settle();
    snap("credits");
    fireEvent.click(screen.getAllByRole("button", { name: "Ledger" })[0]);
    await screen.findByText("welcome");
    await settle();
    snap("credits-ledger");
    fireEvent.click(screen.getByRole("button", { name: "Close" }));
    fireEvent.click(screen.getAllByRole("button", { name: "Grant" })[0]);
    snap("credits-grant");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getByRole("button", { name: "Settings" }));
    snap("credits-settings");
  });

  it("credits empty", async () => {
    mockApi({
      "GET /api/admin/billing": { ...billingConfig, active: "free" },
      "GET /api/admin/credits/accounts": page([], 0),
      "GET /api/admin/users": page([], 0),
    });
    renderWith(<CreditsPage />);
    await screen.findByText(/No credit accounts yet/);
    await settle();
    snap("credits-empty");
  });

  it("providers", async () => {
    mockApi({ "GET /api/ai-providers/available": available, "GET /api/ai-providers": providers });
    renderWith(<ProvidersPage />);
    await screen.findByRole("article", { name: "OpenAI" });
    await settle();
    snap("providers");
    fireEvent.click(screen.getAllByRole("button", { name: "Add credential" })[0]);
    snap("providers-add-cred");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getAllByRole("button", { name: "Edit" })[0]);
    snap("providers-edit");
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    fireEvent.click(screen.getByRole("button", { name: "Add Anthropic" }));
    snap("providers-add");
  });

  it("usage", async () => {
    mockApi(usageRoutes(true));
    renderWith(<UsagePage scope="all" />);
    await screen.findByText("App One");
    await screen.findByText("boom");
    await settle();
    snap("usage");
  });

  it("usage empty", async () => {
    mockApi(usageRoutes(false));
    renderWith(<UsagePage scope="mine" />);
    await screen.findByText("No calls match.");
    await screen.findByText("No calls in this range.");
    await settle();
    snap("usage-empty");
  });

  it("plugins and pricing", async () => {
    mockApi({
      "GET /api/admin/plugins": [
        { name: "openai", distribution: "d", version: "0.1.0", module: "m", kind: "provider", builtin: false, hooks: ["a"], registered: { providers: ["openai"] }, status: "enabled", enabled: true, error: null },
        { name: "broken", distribution: null, version: null, module: "m", kind: "extension", builtin: true, hooks: [], registered: null, status: "failed", enabled: false, error: "ImportError" },
      ],
      "GET /api/ai-providers/models": [
        { key: "openai/gpt-4o-mini", model: "gpt-4o-mini", type: "chatCompletion", provider: "openai", providerDisplayName: "OpenAI", input_credits_per_token: "0.00000015", output_credits_per_token: "0.0000006" },
        { key: "openai/dall-e-3", model: "dall-e-3", type: "imageGeneration", provider: "openai", input_credits_per_token: "0", output_credits_per_token: "4" },
      ],
    });
    const r = renderWith(<PluginsPage />);
    await screen.findByText("ImportError");
    await settle();
    snap("plugins");
    r.unmount();
    renderWith(<PricingPage />);
    await screen.findByText("openai/dall-e-3");
    await settle();
    snap("pricing");
    fireEvent.change(screen.getByLabelText("Search models"), { target: { value: "zzz" } });
    snap("pricing-empty");
  });
});
