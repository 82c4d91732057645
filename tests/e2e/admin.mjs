// Browser scenarios for the console bugs of issue 16, run by tests/e2e/test_console_admin_e2e.py:
// `node admin.mjs SCENARIO`. Each scenario reproduces what an admin or member did when the bug was found and
// asserts what they should have seen. Helpers (Chromium, sign-in, API calls) are in lib.mjs.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HUB, SHOTS, api, assert, chatStatus, env, eventually, launch, runScenario, shot, signIn } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const AXE = createRequire(path.join(here, "../../ui/package.json")).resolve("axe-core/axe.min.js");

/** The OpenAI provider as later scenarios need it (added through the API: the UI path has its own tests). */
async function openaiProvider() {
  const list = (await api("GET", "/api/ai-providers")).body;
  return list.find((p) => p.name === "openai");
}

/** Every visible error text on the page that wraps into far more lines than its length needs. */
async function cramped(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[role="alert"], .error-text, .inline-error, [role="status"]')]
      .filter((el) => el.offsetParent && (el.textContent ?? "").trim().length > 30)
      .map((el) => {
        const r = el.getBoundingClientRect();
        const line = parseFloat(getComputedStyle(el).lineHeight) || 20;
        return { text: el.textContent.trim().slice(0, 60), width: Math.round(r.width), lines: Math.round(r.height / line) };
      })
      .filter((e) => e.width < 160 || e.lines > Math.ceil(e.text.length / 12)),
  );
}


/** Credits mode with a tiny rate for gpt-4o-mini and credits for the member (calls cost fractions). */
async function creditsSetup() {
  await api("PUT", "/api/admin/billing", { mode: "credits", settings: { contact_text: "Write to ops@example.com for credits." } });
  const rates = (await api("GET", "/api/ai-providers/model-rates?model=gpt-4o-mini")).body.list;
  if (!rates.length)
    await api("POST", "/api/ai-providers/model-rates", { providers: ["openai"], model: "gpt-4o-mini", type: "chat", inputRate: "0.000001", outputRate: "0.000002" });
}

/** A streamed chat the client abandons after the first words: the hub charges what was produced. */
async function abortedStream(key) {
  const ctrl = new AbortController();
  const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(" ");
  const resp = await fetch(`${HUB}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: `cut me ${words}` }] }),
    signal: ctrl.signal,
  });
  const reader = resp.body.getReader();
  let seen = "";
  while (!seen.includes("w3")) seen += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
}

const VARIANTS = [["light", "en"], ["dark", "en"], ["light", "zh"], ["dark", "zh"]];

/** `prepare` the page at `url` in each theme and language, then screenshot it as `<name>-<theme>-<lang>.png`
 * (a `prepare` that returns false takes its own screenshots). Language-neutral locators only: the console is
 * in Chinese for half of them. */
async function themedShots(name, url, prepare, key = env.MEMBER_KEY) {
  for (const [scheme, lang] of VARIANTS) {
    const { browser, page, errors } = await launch(undefined, { colorScheme: scheme });
    try {
      await signIn(page, key, url);
      await page.evaluate((l) => localStorage.setItem("aigne-hub:lang", l), lang);
      await page.reload();
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), scheme);
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang === "zh" ? "zh-CN" : "en");
      if ((await prepare(page, lang, `${scheme}-${lang}`)) !== false) await shot(page, `${name}-${scheme}-${lang}`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  }
}

const scenarios = {
  // 1. "First credential (optional)" must be optional: a provider whose key comes from the environment saves.
  async optionalCredential({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const card = page.locator('article[data-provider="openai"]');
    await card.getByRole("button", { name: "Add OpenAI" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Base URL").fill(env.FAKE_URL);
    await dialog.getByLabel("Models (optional)").fill("gpt-4o-mini, dall-e-3, text-embedding-3-small");
    assert.equal(await dialog.getByLabel("API key").getAttribute("required"), null, "the optional key is required");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await card.getByText("No credential", { exact: true }).waitFor();
    // typing part of a credential makes its required fields required again
    await card.getByRole("button", { name: "Add credential" }).click();
    await page.getByRole("dialog").getByLabel("API key").fill(env.FAKE_KEY);
    await page.getByRole("dialog").getByRole("button", { name: "Save credential" }).click();
    await card.getByText("Healthy").waitFor();
    // every stored credential re-checked at once, with a count
    await page.getByRole("button", { name: "Test all credentials" }).click();
    await page.getByTestId("check-all").filter({ hasText: "1 of 1 credentials valid" }).waitFor();
  },

  // 2. A refused first credential: the provider is saved once, Save again retries only the credential, the
  //    list shows the provider after Cancel, and the form offers what the message talks about.
  async refusedFirstCredential({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const card = page.locator('article[data-provider="deepseek"]');
    await card.getByRole("button", { name: "Add DeepSeek" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Base URL").fill("http://127.0.0.1:9/v1");
    await dialog.getByLabel("API key").fill("sk-deepseek-test-000000");
    await dialog.getByRole("button", { name: "Save" }).click();
    const error = dialog.getByRole("alert");
    await error.filter({ hasText: "DeepSeek was saved, but its credential was not" }).waitFor();
    const text = await error.innerText();
    assert.doesNotMatch(text, /--no-verify|--test-model|verify=false/, `CLI advice in the browser: ${text}`);
    assert.match(text, /Save without the live check/);
    await shot(page, "provider-credential-refused");
    await dialog.getByRole("button", { name: "Save" }).click();
    await error.filter({ hasText: "DeepSeek was saved" }).waitFor();
    assert.doesNotMatch(await error.innerText(), /already exists/);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    await card.getByText("No credential", { exact: true }).waitFor();
    assert.equal(await card.getByText("Not configured").count(), 0);
    // the credential form offers saving without the check
    await card.getByRole("button", { name: "Add credential" }).click();
    const cred = page.getByRole("dialog");
    await cred.getByLabel("API key").fill("sk-deepseek-test-000000");
    await cred.getByRole("checkbox", { name: /Save without the live check/ }).check();
    await cred.getByRole("button", { name: "Save credential" }).click();
    await cred.waitFor({ state: "detached" });
    await card.locator("code.masked").waitFor();
    const providers = (await api("GET", "/api/ai-providers")).body.filter((p) => p.name === "deepseek");
    assert.equal(providers.length, 1);
    await api("DELETE", `/api/ai-providers/${providers[0].id}`);
  },

  // 5. A credential the admin switched off is not "failing".
  async switchedOffCredential({ page }) {
    const p = await openaiProvider();
    await api("POST", `/api/ai-providers/${p.id}/credentials`, { name: "spare", value: { api_key: env.FAKE_KEY }, verify: false });
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const card = page.locator('article[data-provider="openai"]');
    await card.getByRole("switch", { name: "Credential spare active" }).click();
    await eventually(async () => (await card.getByRole("switch", { name: "Credential spare active" }).getAttribute("aria-checked")) === "false", "switched off");
    await card.getByText("Healthy").waitFor();
    assert.equal(await card.getByText("Some credentials failing").count(), 0);
  },

  // 6 (console side). A key for a member cannot be given a role above the member's.
  async keyRoleLimit({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/users");
    await page.getByRole("button", { name: "New key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Belongs to").selectOption({ label: "member-user (member)" });
    const roles = await dialog.locator('select[name="role"] option').allTextContents();
    assert.deepEqual(roles, ["member"]);
    await dialog.getByLabel("Belongs to").selectOption("new");
    assert.deepEqual(await dialog.locator('select[name="role"] option').allTextContents(), ["member", "admin", "owner"]);
    // 11. closing a dialog gives the focus back to the button that opened it
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "New key");
  },

  // 8. Rates: units next to the numbers, forms with only the fields a kind is priced by, re-pricing feedback.
  async rateKinds({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/models");
    await page.getByRole("heading", { name: "Models and rates" }).waitFor();
    await page.getByRole("button", { name: "New rate" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("checkbox", { name: "OpenAI" }).check();
    await dialog.getByLabel("Model ID").fill("dall-e-3");
    await dialog.getByLabel("Type").selectOption("image");
    assert.equal(await dialog.getByLabel("Cache read per 1M tokens").count(), 0, "cache fields on an image rate");
    await dialog.getByLabel("Credits per image").fill("40");
    await dialog.getByLabel("Upstream cost per image (USD)").fill("0.04");
    await shot(page, "rate-form-image");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    const row = page.locator("tbody tr", { hasText: "dall-e-3" });
    assert.match(await row.locator('td[data-col="output"]').innerText(), /^40\s*\/ image$/);
    await page.getByRole("status").filter({ hasText: "Rate saved." }).waitFor();
    await page.getByRole("button", { name: "New rate" }).click();
    await dialog.getByLabel("Type").selectOption("embedding");
    assert.equal(await dialog.getByLabel("Output credits per 1M tokens").count(), 0, "output field on an embedding rate");
    assert.equal(await dialog.getByLabel("Cache write per 1M tokens").count(), 0, "cache fields on an embedding rate");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Bulk re-pricing" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Re-price" }).click();
    await page.getByRole("status").filter({ hasText: "1 rates re-priced from their unit costs." }).waitFor();
    await shot(page, "models-and-rates-units");
  },

  // 9. With the OpenAI plugin off, the Image tab says so (and where to switch it on) instead of "configure".
  async imageTabPluginOff({ page }) {
    assert.equal((await api("PUT", "/api/admin/plugins/openai", { enabled: false })).status, 200);
    try {
      await signIn(page, env.ADMIN_KEY, "/playground");
      await page.getByRole("tab", { name: "Image" }).click();
      const empty = page.locator(".state.empty", { hasText: "OpenAI serves image models, but its plugin is switched off." });
      await empty.waitFor();
      await empty.getByRole("link", { name: "Plugins" }).waitFor();
      await shot(page, "playground-plugin-off");
    } finally {
      await api("PUT", "/api/admin/plugins/openai", { enabled: true });
    }
  },

  // 10. Choosing a billing mode explains it; nothing changes until it is confirmed; Cancel keeps the old one.
  async billingModeConfirm({ page }) {
    const before = (await api("GET", "/api/admin/billing")).body.active;
    await api("PUT", "/api/admin/billing", { mode: "none" });
    await signIn(page, env.ADMIN_KEY, "/console/credits");
    const mode = page.getByRole("combobox", { name: "Billing mode" });
    await mode.selectOption("free");
    await page.getByTestId("mode-preview").filter({ hasText: "refuse models that have no rate" }).waitFor();
    await page.getByRole("button", { name: "Apply…" }).click();
    const dialog = page.getByRole("dialog", { name: "Switch billing to Self-hosted?" });
    await shot(page, "billing-mode-confirm");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    assert.equal((await api("GET", "/api/admin/billing")).body.active, "none");
    await page.getByRole("button", { name: "Apply…" }).click();
    await dialog.getByRole("button", { name: "Switch" }).click();
    await page.getByRole("status").filter({ hasText: "Billing mode is now Self-hosted." }).waitFor();
    assert.equal((await api("GET", "/api/admin/billing")).body.active, "free");
    await api("PUT", "/api/admin/billing", { mode: before });
  },

  // 11. Phone width: an error reads as a sentence, not a word per line; a stale error leaves with the search.
  async phoneErrors() {
    const { browser, page, errors } = await launch({ width: 390, height: 844 });
    try {
      await signIn(page, env.ADMIN_KEY, "/console/users");
      const owner = page.locator("tr[data-user]").filter({ has: page.locator('option[value="owner"]:checked') }).first();
      await owner.getByRole("combobox").selectOption("member");
      const alert = page.getByRole("alert").filter({ hasText: /owner/ });
      await alert.waitFor();
      const bad = await cramped(page);
      assert.deepEqual(bad, [], `errors squeezed on a phone: ${JSON.stringify(bad)}`);
      await shot(page, "phone-error");
      await page.getByLabel("Search users").first().fill("member");
      await alert.waitFor({ state: "detached" });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },

  // 11. Chinese: billing-mode names, their settings and role names are translated too.
  async chineseLabels({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/credits");
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh");
    const mode = page.getByRole("combobox", { name: "计费模式" });
    await mode.waitFor();
    const options = await mode.locator("option").allTextContents();
    assert.ok(!options.some((o) => /Self-hosted|Credits|None/.test(o)), `English mode names: ${options}`);
    const before = (await api("GET", "/api/admin/billing")).body.active;
    await api("PUT", "/api/admin/billing", { mode: "credits" });
    await page.reload();
    await page.getByRole("button", { name: "设置" }).click();
    const labels = await page.getByRole("dialog").locator(".field-label").allInnerTexts();
    assert.ok(labels.length && labels.every((l) => /[\u4e00-\u9fff]/.test(l)), `English settings: ${labels}`);
    await page.getByRole("dialog").getByRole("button", { name: "取消" }).click();
    await api("PUT", "/api/admin/billing", { mode: before });
    await page.goto(`${HUB}/console/users`);
    await page.locator("tr[data-user]").first().waitFor();
    const roles = await page.locator("tr[data-user] select").first().locator("option").allTextContents();
    assert.deepEqual(roles, ["成员", "管理员", "所有者"]);
    await shot(page, "users-zh");
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  },

  // 12. Every link blocklet.yml gives members opens a page they may see.
  async memberNavigation({ page }) {
    await signIn(page, env.MEMBER_KEY);
    for (const link of JSON.parse(env.NAV_LINKS)) {
      await page.goto(`${HUB}${link}`);
      await page.locator("main h1").first().waitFor();
      const heading = await page.locator("main h1").first().innerText();
      assert.ok(!/Administrators only|Page not found/.test(heading), `${link} shows "${heading}" to a member`);
    }
  },

  // Playground parameters reach the upstream; a tool call is shown; "Code" gives the same request as code.
  async playgroundParams({ page }) {
    await signIn(page, env.ADMIN_KEY, "/playground");
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.locator('option[value="openai/gpt-4o-mini"]').waitFor({ state: "attached" });
    await picker.selectOption("openai/gpt-4o-mini");
    await page.getByText("System prompt and parameters").click();
    await page.getByLabel("System prompt").fill("be brief");
    await page.getByLabel("Temperature").fill("5");
    await page.getByRole("alert").filter({ hasText: "Temperature must be between 0 and 2." }).waitFor();
    await page.getByLabel("Message").fill("weather in Paris?");
    assert.ok(await page.getByRole("button", { name: "Send" }).isDisabled(), "sent with a temperature of 5");
    await page.getByLabel("Temperature").fill("0.3");
    await page.getByLabel("Max tokens").fill("50");
    await page.getByLabel("Top-p").fill("0.9");
    await page.getByRole("checkbox", { name: "JSON mode" }).check();
    const tool = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } };
    await page.getByLabel("Tools (JSON array)").fill(JSON.stringify([tool]));
    await page.getByRole("button", { name: "Code" }).click();
    const dialog = page.getByRole("dialog", { name: "This request as code" });
    const code = {};
    for (const [tab, id] of [["curl", "curl"], ["Python", "python"], ["JavaScript", "javascript"]]) {
      await dialog.getByRole("tab", { name: tab }).click();
      code[id] = await dialog.getByTestId(`code-${id}`).innerText();
    }
    await dialog.getByRole("tab", { name: "Python" }).click();
    await shot(page, "playground-code");
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("tool-call").filter({ hasText: "get_weather(" }).waitFor();
    await page.getByTestId("answer-meta").last().waitFor();
    await shot(page, "playground-parameters");
    console.log(JSON.stringify({ code }));
  },

  // 3. The 402 link opens a page that says how to get credits: balance, the admin's contact, how they are granted.
  async buyCredits({ page }) {
    await creditsSetup();
    const poor = (await api("POST", "/api/admin/keys", { name: "broke", createUser: true, role: "member" })).body.key;
    const refused = await chatStatus(poor);
    assert.equal(refused.status, 402, JSON.stringify(refused.body));
    const link = refused.body.error.message.match(/https?:\/\/\S+/)[0];
    await page.goto(link); // not signed in: sign in first, then back to the page
    await page.getByLabel("Access key").fill(poor);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Buy credits" }).waitFor();
    assert.equal(new URL(page.url()).pathname, new URL(link).pathname);
    await page.getByTestId("purchase-balance").getByText("0", { exact: true }).first().waitFor();
    await page.getByTestId("admin-contact").filter({ hasText: "Write to ops@example.com for credits." }).waitFor();
    await page.getByTestId("no-payment").waitFor();
    await page.getByText("Administrators grant credits by hand").waitFor();
    await themedShots("buy-credits", "/credits", async (p, lang) => {
      await p.getByRole("heading", { name: lang === "zh" ? "购买积分" : "Buy credits" }).waitFor();
      await p.getByTestId("admin-contact").waitFor();
    });
  },

  // 4. In credits mode the public pricing page and the playground offer only models that have a rate.
  async ratedModelsOnly({ page }) {
    await creditsSetup();
    await page.goto(`${HUB}/pricing`);
    await page.locator("table tbody tr").first().waitFor();
    const keys = await page.locator("table tbody tr td:first-child").allInnerTexts();
    assert.ok(keys.length && keys.every((k) => /gpt-4o-mini|dall-e-3/.test(k)), `unrated models priced: ${keys}`);
    await signIn(page, env.ADMIN_KEY, "/playground");
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.locator('option[value="openai/gpt-4o-mini"]').waitFor({ state: "attached" });
    assert.deepEqual(await picker.locator("option").allTextContents(), ["gpt-4o-mini"]);
  },

  // 7, 14, 15 and the request log: an aborted stream shows the prompt it was charged for, the model filter
  // takes part of a name, the provider filter uses provider ids, filters live in the address, small credit
  // totals rise on the chart, a call opens in a dialog, the CSV follows the language.
  async callLog({ page }) {
    await creditsSetup();
    const member = (await api("GET", "/api/admin/users?q=member-user")).body.list[0];
    await api("POST", "/api/admin/credits/grants", { userId: member.id, amount: "100", reason: "e2e" });
    assert.equal((await chatStatus(env.MEMBER_KEY)).status, 200);
    await abortedStream(env.MEMBER_KEY);
    await signIn(page, env.ADMIN_KEY, "/console/usage");
    const history = page.getByTestId("call-history");
    await page.getByRole("combobox", { name: "Status" }).selectOption("aborted");
    await page.getByLabel("Model", { exact: true }).fill("4o-mi");
    const aborted = history.locator("tbody tr", { hasText: "aborted" }).first();
    await eventually(async () => {
      if ((await aborted.count()) > 0) return true;
      // the aborted call is logged once the hub sees the hang-up, maybe after the page asked: look again
      // (the filters live in the address, so a reload keeps them)
      await page.reload();
      await history.waitFor();
      return (await aborted.count()) > 0;
    }, "the aborted call in the log");
    const estimate = aborted.getByTestId("estimated-input");
    await estimate.waitFor();
    assert.match(await estimate.innerText(), /^≈\d+/);
    await aborted.getByTitle("Only this user's calls").filter({ hasText: "member-user" }).waitFor(); // named, not #id
    await aborted.getByRole("button", { name: /Details of call/ }).click();
    const detail = page.getByRole("dialog");
    await detail.getByTestId("call-detail").getByText(/estimated/).waitFor();
    await page.keyboard.press("Escape");
    // filters are in the address: a reload keeps them
    await page.getByRole("combobox", { name: "Provider" }).selectOption({ label: "OpenAI" });
    const url = new URL(page.url());
    assert.match(url.searchParams.get("providerId") ?? "", /^\d+$/);
    assert.equal(url.searchParams.get("model"), "4o-mi");
    await page.reload();
    await history.locator("tbody tr", { hasText: "aborted" }).first().waitFor();
    assert.equal(await page.getByLabel("Model", { exact: true }).inputValue(), "4o-mi");
    // tiny credit totals still rise above the axis
    const credits = page.getByRole("img", { name: "Credits" });
    await eventually(async () => Number(await credits.getAttribute("data-max")) < 1, "a scale for small credits");
    const values = await credits.locator("circle").evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(values.some((v) => v > 0), `credits chart is flat: ${values}`);
    const rates = await page.getByRole("img", { name: "Success rate (%)" }).locator("circle").evaluateAll((cs) => cs.map((c) => Number(c.dataset.value)));
    assert.ok(!rates.includes(0), `days without calls drawn as 0 % success: ${rates}`);
    // cost by model, user, key and project: who spent what, exportable
    const breakdown = page.getByTestId("cost-breakdown");
    await breakdown.locator('tr[data-row="openai/gpt-4o-mini"]').waitFor();
    await breakdown.getByRole("tab", { name: "User" }).click();
    await breakdown.locator('tr[data-row="member-user"]').waitFor();
    await breakdown.getByRole("tab", { name: "Key" }).click();
    await breakdown.locator('tr[data-row="member-user"]').waitFor();
    const [costs] = await Promise.all([page.waitForEvent("download"), breakdown.getByRole("button", { name: "Export table (CSV)" }).click()]);
    const costCsv = (await import("node:fs")).readFileSync(await costs.path(), "utf8");
    assert.match(costCsv, /^key,calls,input tokens,output tokens,credits\nmember-user,\d+,/);
    await shot(page, "usage-cost-by");
    // the CSV export speaks Chinese when the console does
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "导出 CSV" }).click()]);
    const csv = (await import("node:fs")).readFileSync(await download.path(), "utf8");
    assert.match(csv.split("\n")[0], /^时间,请求 ID,用户/);
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
    await api("PUT", "/api/admin/billing", { mode: "free" });
  },

  // The pages issue 16 added, in both themes and languages (docs/ui.md lists the screenshots): the request log
  // and a call's detail, the cost breakdown, bulk selection, and the playground with parameters.
  async newPagesThemed() {
    await themedShots("request-log", "/console/usage", async (page, _lang, variant) => {
      const history = page.getByTestId("call-history");
      await history.locator("tbody tr").first().waitFor();
      await shot(page, `request-log-${variant}`);
      await history.locator("tbody tr").first().getByRole("button").last().click(); // the row's details
      await page.getByRole("dialog").getByTestId("call-detail").waitFor();
      await shot(page, `call-detail-${variant}`);
      await page.keyboard.press("Escape");
      const breakdown = page.getByTestId("cost-breakdown");
      await breakdown.getByRole("tab").nth(1).click(); // by user
      await breakdown.locator("tr[data-row]").first().waitFor();
      await page.waitForTimeout(150);
      if (SHOTS) await breakdown.screenshot({ path: path.join(SHOTS, `cost-breakdown-${variant}.png`) });
      return false;
    }, env.ADMIN_KEY);
    await themedShots("bulk-selection", "/console/users", async (page) => {
      const boxes = page.locator("tr[data-user] input[type=checkbox]");
      await boxes.first().waitFor();
      await boxes.nth(0).check();
      await boxes.nth(1).check();
      await page.locator(".bulk-bar").first().waitFor();
    }, env.ADMIN_KEY);
    await themedShots("playground-parameters", "/playground", async (page, lang) => {
      await page.locator('select option[value="openai/gpt-4o-mini"]').waitFor({ state: "attached" });
      await page.locator("details.params summary").click();
      await page.locator('textarea[name="system"]').fill(lang === "zh" ? "简短回答" : "be brief");
      await page.locator('input[name="temperature"]').fill("0.3");
      await page.locator('input[name="maxTokens"]').fill("50");
      await page.locator('input[name="topP"]').fill("0.9");
      await page.locator(".composer textarea").fill(lang === "zh" ? "巴黎天气如何？" : "weather in Paris?");
      await page.locator(".composer button[type=submit]").click();
      await page.getByTestId("answer-meta").last().waitFor();
      await page.locator(".composer button[type=submit]").waitFor(); // Send again: the answer and its cost are in
    }, env.ADMIN_KEY);
  },

  // Bulk actions: select rows (or the whole page) and act on all of them, with a count of what was done.
  async bulk({ page }) {
    const made = [];
    for (const name of ["bulk-k1", "bulk-k2"]) made.push((await api("POST", "/api/admin/keys", { name, createUser: true, role: "member" })).body.key);
    await signIn(page, env.ADMIN_KEY, "/console/users");
    await page.getByLabel("Search keys").fill("bulk-k");
    await page.locator('tr[data-key="bulk-k2"]').waitFor();
    await page.getByRole("checkbox", { name: "Select all active keys on this page" }).check();
    await page.getByRole("group", { name: "Bulk actions" }).getByRole("button", { name: "Revoke" }).click();
    await page.getByTestId("bulk-report").filter({ hasText: "Revoke: 2 of 2 done." }).waitFor();
    await page.locator('tr[data-key="bulk-k1"]').getByText("revoked").waitFor();
    for (const key of made) assert.equal((await chatStatus(key)).status, 401);
    await page.getByRole("checkbox", { name: "Select user bulk-k1" }).check();
    await page.getByRole("group", { name: "Bulk actions" }).getByRole("button", { name: "Disable" }).click();
    await page.getByTestId("bulk-report").filter({ hasText: "Disable: 1 of 1 done." }).waitFor();
    await page.goto(`${HUB}/console/models`);
    await page.getByRole("checkbox", { name: "Select rate openai/dall-e-3" }).check();
    await shot(page, "bulk-actions");
    await page.getByRole("group", { name: "Bulk actions" }).getByRole("button", { name: "Delete" }).click();
    await page.getByTestId("bulk-report").filter({ hasText: "Delete: 1 of 1 done." }).waitFor();
    await page.getByRole("checkbox", { name: "Select rate openai/dall-e-3" }).waitFor({ state: "detached" });
  },

  // Every save says what it did: providers, credentials, users, keys and plugins (the rates page's notice).
  async saveFeedback({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const notice = page.getByTestId("providers-notice");
    const card = page.locator('article[data-provider="openai"]');
    await card.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await notice.filter({ hasText: "Provider OpenAI saved." }).waitFor();
    await card.getByRole("button", { name: "Add credential" }).click();
    const cred = page.getByRole("dialog");
    await cred.getByLabel("Name", { exact: true }).fill("fb-cred");
    await cred.getByLabel("API key").fill(env.FAKE_KEY);
    await cred.getByRole("button", { name: "Save credential" }).click();
    await notice.filter({ hasText: "Credential fb-cred added to OpenAI." }).waitFor();
    await card.getByRole("switch", { name: "Credential fb-cred active" }).click();
    await notice.filter({ hasText: "Credential fb-cred deactivated." }).waitFor();
    const xai = page.locator('article[data-provider="xai"]');
    await xai.getByRole("button", { name: /^Add / }).click();
    await page.getByRole("dialog").getByLabel("Base URL").fill("http://127.0.0.1:9/v1");
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await notice.filter({ hasText: /^Provider .+ added\.$/ }).waitFor();
    await xai.getByRole("switch", { name: /^Enable / }).click();
    await notice.filter({ hasText: /^Provider .+ disabled\.$/ }).waitFor();
    await shot(page, "save-feedback-provider");
    const p = await openaiProvider();
    const spare = p.credentials.find((c) => c.name === "fb-cred");
    await api("DELETE", `/api/ai-providers/${p.id}/credentials/${spare.id}`);
    const x = (await api("GET", "/api/ai-providers")).body.find((q) => q.name === "xai");
    await api("DELETE", `/api/ai-providers/${x.id}`);

    await page.goto(`${HUB}/console/users`);
    await page.getByRole("button", { name: "New user" }).click();
    await page.getByRole("dialog").getByLabel("Name").fill("fb-user");
    await page.getByRole("dialog").getByRole("button", { name: "Create user" }).click();
    const users = page.getByTestId("users-notice");
    await users.filter({ hasText: "User fb-user created." }).waitFor();
    await page.getByLabel("Search users").fill("fb-user");
    await page.getByRole("combobox", { name: "Role of fb-user" }).selectOption("admin");
    await users.filter({ hasText: "fb-user is now admin." }).waitFor();
    await page.getByRole("switch", { name: "User fb-user active" }).click();
    await users.filter({ hasText: "User fb-user disabled." }).waitFor();
    await page.getByRole("button", { name: "New key" }).click();
    await page.getByRole("dialog").getByLabel("Key name").fill("fb-key");
    await page.getByRole("dialog").getByRole("button", { name: "Create key" }).click();
    await page.getByRole("dialog", { name: "Key created" }).getByRole("button", { name: "Close" }).first().click();
    await page.getByTestId("keys-notice").filter({ hasText: "Key fb-key created." }).waitFor();

    await page.goto(`${HUB}/console/plugins`);
    const toggle = page.getByRole("switch", { name: "Enable plugin deepseek" });
    await toggle.click();
    await page.getByTestId("plugins-notice").filter({ hasText: "Plugin deepseek disabled; it applies from the next request." }).waitFor();
    await toggle.click();
    await page.getByTestId("plugins-notice").filter({ hasText: "Plugin deepseek enabled" }).waitFor();
    // and in Chinese
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh");
    await page.getByRole("switch", { name: "启用插件 deepseek" }).click();
    await page.getByTestId("plugins-notice").filter({ hasText: "插件 deepseek 已停用，从下一个请求起生效。" }).waitFor();
    await page.getByRole("switch", { name: "启用插件 deepseek" }).click();
    await page.getByTestId("plugins-notice").filter({ hasText: "插件 deepseek 已启用" }).waitFor();
    await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  },

  // Providers and credentials in bulk: enable / disable / delete several at once, with what failed.
  //    (Two throwaway providers: the OpenAI provider and its credentials stay as later scenarios need them.)
  async bulkProviders({ page }) {
    const made = {};
    for (const name of ["xai", "deepseek"]) made[name] = (await api("POST", "/api/ai-providers", { name, enabled: true, baseUrl: "http://127.0.0.1:9/v1" })).body;
    for (const name of ["bulk-c1", "bulk-c2"]) await api("POST", `/api/ai-providers/${made.xai.id}/credentials`, { name, value: { api_key: "sk-bulk-000000" }, verify: false });
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const cards = ["xai", "deepseek"].map((n) => page.locator(`article[data-provider="${n}"]`));
    // credentials of one provider
    const xai = cards[0];
    const credBar = xai.getByRole("group", { name: "Bulk actions" });
    for (const name of ["bulk-c1", "bulk-c2"]) await xai.getByRole("checkbox", { name: `Select credential ${name}` }).check();
    await shot(page, "bulk-credentials");
    await credBar.getByRole("button", { name: "Deactivate" }).click();
    await xai.getByTestId("bulk-report").filter({ hasText: "Deactivate: 2 of 2 done." }).waitFor();
    for (const name of ["bulk-c1", "bulk-c2"])
      await eventually(async () => (await xai.getByRole("switch", { name: `Credential ${name} active` }).getAttribute("aria-checked")) === "false", "deactivated");
    await xai.getByRole("checkbox", { name: "Select credential bulk-c1" }).check();
    await credBar.getByRole("button", { name: "Delete" }).click();
    await xai.getByTestId("bulk-report").filter({ hasText: "Delete: 1 of 1 done." }).waitFor();
    await xai.locator('tr[data-credential="bulk-c1"]').waitFor({ state: "detached" });
    await xai.locator('tr[data-credential="bulk-c2"]').waitFor();
    // the providers
    const bar = page.locator("section > .bulk-bar");
    const pick = async () => {
      for (const card of cards) await card.getByRole("checkbox", { name: /^Select provider / }).check();
    };
    await pick();
    await bar.getByRole("button", { name: "Disable" }).click();
    await bar.getByTestId("bulk-report").filter({ hasText: "Disable: 2 of 2 done." }).waitFor();
    for (const card of cards) await eventually(async () => (await card.getByRole("switch", { name: /^Enable / }).getAttribute("aria-checked")) === "false", "disabled");
    await pick();
    await bar.getByRole("button", { name: "Enable" }).click();
    await bar.getByTestId("bulk-report").filter({ hasText: "Enable: 2 of 2 done." }).waitFor();
    for (const card of cards) await eventually(async () => (await card.getByRole("switch", { name: /^Enable / }).getAttribute("aria-checked")) === "true", "enabled");
    // one of the two is deleted behind the console's back: the summary says one failed, and why
    await pick();
    await api("DELETE", `/api/ai-providers/${made.deepseek.id}`);
    await bar.getByRole("button", { name: "Delete" }).click();
    const report = bar.getByTestId("bulk-report").filter({ hasText: "Delete: 1 of 2 done." });
    await report.waitFor();
    assert.equal(await report.getAttribute("class"), "error-text small");
    for (const card of cards) await card.getByText("Not configured").waitFor();
    const left = (await api("GET", "/api/ai-providers")).body.map((q) => q.name);
    assert.ok(!left.includes("xai") && !left.includes("deepseek"), JSON.stringify(left));
  },

  // The rates page lists every model the providers serve, unrated ones marked, and rates one from the list.
  async servedModels({ page }) {
    const model = "text-embedding-3-small";
    for (const r of (await api("GET", `/api/ai-providers/model-rates?provider=openai&model=${model}`)).body.list)
      await api("DELETE", `/api/ai-providers/model-rates/${r.id}`);
    await signIn(page, env.ADMIN_KEY, "/console/models");
    const row = page.locator(`tr[data-served="openai/${model}"]`);
    await row.getByText("no rate", { exact: true }).waitFor();
    const before = (await api("GET", "/api/ai-providers/model-rates/catalog")).body;
    await page.getByTestId("served-summary").filter({ hasText: `${before.count} models served, ${before.unrated} without a rate.` }).waitFor();
    await shot(page, "rates-served-models");
    await row.getByRole("button", { name: `Add a rate for openai/${model}` }).click();
    const dialog = page.getByRole("dialog");
    assert.equal(await dialog.getByLabel("Model ID").inputValue(), model);
    assert.equal(await dialog.getByLabel("Type").inputValue(), "embedding");
    assert.ok(await dialog.getByRole("checkbox", { name: "OpenAI" }).isChecked());
    await dialog.getByLabel("Input credits per 1M tokens").fill("0.02");
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.getByTestId("rates-notice").filter({ hasText: "Rate saved." }).waitFor();
    await row.getByText("rated", { exact: true }).waitFor();
    assert.equal(await row.getByRole("button", { name: /Add a rate/ }).count(), 0);
    const made = (await api("GET", `/api/ai-providers/model-rates?provider=openai&model=${model}`)).body.list;
    assert.deepEqual(made.map((r) => [r.provider, r.model, r.kind]), [["openai", model, "embedding"]]);
    await page.getByTestId("served-summary").filter({ hasText: `${before.unrated - 1} without a rate.` }).waitFor();
    await api("DELETE", `/api/ai-providers/model-rates/${made[0].id}`); // later scenarios expect it unrated
  },

  // Console assets as browsers expect them: Brotli, a year of caching for hashed files, 304 on revalidation.
  async assets({ page }) {
    const seen = [];
    page.on("response", (r) => seen.push(r));
    await page.goto(`${HUB}/signin`);
    await page.getByLabel("Access key").waitFor();
    const js = seen.find((r) => /\/assets\/[^/]+\.js$/.test(r.url()));
    assert.ok(js, "no script asset loaded");
    const headers = await js.allHeaders();
    assert.equal(headers["content-encoding"], "br", JSON.stringify(headers));
    assert.match(headers["cache-control"], /max-age=31536000, immutable/);
    assert.ok(headers.etag && headers["last-modified"], JSON.stringify(headers));
    seen.length = 0;
    await page.reload();
    await page.getByLabel("Access key").waitFor();
    // the browser revalidates index.html with its ETag, which the hub answers with a bodiless 304
    const doc = seen.find((r) => r.request().resourceType() === "document");
    const sent = await doc.request().allHeaders();
    const etag = (await doc.allHeaders()).etag;
    assert.equal(sent["if-none-match"], etag, `reload did not revalidate: ${JSON.stringify(sent)}`);
    const again = await fetch(doc.url(), { headers: { "If-None-Match": etag } });
    assert.equal(again.status, 304);
    console.log(JSON.stringify({ bundleBytes: Number(headers["content-length"] ?? 0) }));
  },

  // Dark mode: follows the system, the header's menu pins a theme, and both pass axe-core's contrast check.
  async themes() {
    const pages = ["/console", "/console/providers", "/console/users", "/console/models", "/console/credits", "/console/usage", "/console/audit", "/playground", "/account", "/pricing"];
    const report = [];
    for (const scheme of ["light", "dark"]) {
      // axe is injected as an inline script, which the console's Content-Security-Policy (rightly) refuses
      const { browser, page, errors } = await launch(undefined, { colorScheme: scheme, bypassCSP: true });
      try {
        await signIn(page, env.ADMIN_KEY, "/console");
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const dark = await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme);
        assert.equal(dark, scheme, `the system asked for ${scheme}, the page is ${dark} (${bg})`);
        for (const p of pages) {
          await page.goto(`${HUB}${p}`);
          await page.locator("main h1").first().waitFor();
          await page.waitForLoadState("networkidle").catch(() => {});
          await page.addScriptTag({ path: AXE });
          const { violations, checked } = await page.evaluate(async () => {
            const r = await window.axe.run(document, { runOnly: ["color-contrast"] });
            return {
              violations: r.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(" ")}: ${n.any[0]?.message ?? v.help}`)),
              checked: r.passes.reduce((n, v) => n + v.nodes.length, 0),
            };
          });
          assert.ok(checked > 5, `axe checked only ${checked} texts on ${p}`); // the check really ran
          report.push(...violations.map((v) => `${scheme} ${p} ${v}`));
        }
        await page.goto(`${HUB}/console/usage`);
        await shot(page, `usage-${scheme}`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    }
    assert.deepEqual(report, [], `contrast violations:\n${report.join("\n")}`);
    // the toggle pins a theme over the system's and is remembered
    const { browser, page } = await launch(undefined, { colorScheme: "light" });
    try {
      await signIn(page, env.ADMIN_KEY, "/console");
      await page.getByRole("combobox", { name: "Theme" }).selectOption("dark");
      await page.reload();
      await page.getByRole("heading", { name: "Quick start" }).waitFor();
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), "dark");
      await shot(page, "quick-start-dark");
      await page.getByRole("combobox", { name: "Theme" }).selectOption("system");
      assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme), "light");
    } finally {
      await browser.close();
    }
  },
};

await runScenario(scenarios, ["phoneErrors", "themes"]);
