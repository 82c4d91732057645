// Browser scenarios for the console, run by tests/e2e/test_ui_e2e.py: `node console.mjs SCENARIO`.
// Drives Debian's Chromium through playwright-core (no browser download) against a live hub and a fake
// OpenAI upstream (helpers in lib.mjs).
import path from "node:path";
import { HUB, assert, chatStatus, env, eventually, launch, overflow, runScenario, shot, signIn } from "./lib.mjs";

const scenarios = {
  async signin({ page }) {
    await page.goto(`${HUB}/`);
    await page.waitForURL(/\/signin/);
    await shot(page, "sign-in");
    await page.getByLabel("Access key").fill("ahk-not-a-real-key-000000000000000000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: /invalid|Unauthorized/i }).waitFor();
    await page.getByLabel("Access key").fill(env.ADMIN_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/console$/);
    await page.getByRole("heading", { name: "Quick start" }).waitFor();
    // nothing is configured yet: the provider step is still to do
    await page.locator(".steps li.todo", { hasText: "Configure a provider" }).waitFor();
    await shot(page, "quick-start-empty");
    // the session survives a reload (HttpOnly cookie), and sign-out ends it
    await page.reload();
    await page.getByRole("heading", { name: "Quick start" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin/);
    await page.goto(`${HUB}/console/providers`);
    await page.waitForURL(/\/signin\?next=/);
  },

  async provider({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    await page.getByRole("heading", { name: "Providers and credentials" }).waitFor();
    const card = page.locator('article[data-provider="openai"]');
    await card.getByRole("button", { name: "Add OpenAI" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Base URL").fill(env.FAKE_URL);
    await dialog.getByLabel("Models (optional)").fill("gpt-4o-mini, gpt-4o, dall-e-3, text-embedding-3-small");
    await dialog.getByLabel("API key").fill(env.FAKE_KEY);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    // the credential is listed masked, never in full
    const masked = card.locator("code.masked");
    await masked.waitFor();
    const text = await masked.innerText();
    assert.ok(!text.includes(env.FAKE_KEY), `credential shown unmasked: ${text}`);
    assert.match(text, /…|\*/);
    await card.getByText("Healthy").waitFor();
    // a second credential through the schema-driven form
    await card.getByRole("button", { name: "Add credential" }).click();
    const credDialog = page.getByRole("dialog");
    await credDialog.getByLabel("Name").fill("backup");
    // "Test credential" makes the provider's test call with the typed value before anything is saved
    await credDialog.getByLabel("API key").fill("sk-wrong-key");
    await credDialog.getByRole("button", { name: "Test credential" }).click();
    await credDialog.getByRole("status").filter({ hasText: /Incorrect API key/ }).waitFor();
    await credDialog.getByLabel("API key").fill(env.FAKE_KEY);
    await credDialog.getByRole("button", { name: "Test credential" }).click();
    await credDialog.getByRole("status").filter({ hasText: /^Valid/ }).waitFor();
    await credDialog.getByRole("button", { name: "Save credential" }).click();
    await card.locator("tr", { hasText: "backup" }).waitFor();
    // "Re-check" re-validates a stored credential through the vendor
    await card.getByRole("button", { name: "Re-check credential backup" }).click();
    await card.getByText(/backup is valid/).waitFor();
    await card.getByRole("button", { name: "Test" }).click();
    await card.getByText(/Test call succeeded/).waitFor();
    await shot(page, "providers");
    const ok = await chatStatus(env.ADMIN_KEY);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  },

  async plugins({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/plugins");
    const row = page.locator('tr[data-plugin="openai"]');
    const toggle = row.getByRole("switch", { name: "Enable plugin openai" });
    await toggle.waitFor();
    assert.equal(await toggle.getAttribute("aria-checked"), "true");
    await shot(page, "plugins");
    await toggle.click();
    await eventually(async () => (await toggle.getAttribute("aria-checked")) === "false", "plugin off");
    const off = await chatStatus(env.ADMIN_KEY);
    assert.notEqual(off.status, 200, "a call still worked with the provider plugin disabled");
    assert.ok(off.body.error?.message, JSON.stringify(off.body));
    await toggle.click();
    await eventually(async () => (await toggle.getAttribute("aria-checked")) === "true", "plugin on");
    const on = await chatStatus(env.ADMIN_KEY);
    assert.equal(on.status, 200, JSON.stringify(on.body));
    console.log(JSON.stringify({ disabledStatus: off.status, disabledError: off.body.error.message }));
  },

  async playground({ page }) {
    await signIn(page, env.ADMIN_KEY, "/playground");
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.locator('optgroup[label="openai"] option[value="openai/gpt-4o-mini"]').waitFor({ state: "attached" });
    // grouped by provider; the image and embedding models are on their own tabs
    const openaiModels = await picker.locator('optgroup[label="openai"] option').allInnerTexts();
    assert.deepEqual(openaiModels.sort(), ["gpt-4o", "gpt-4o-mini"]);
    await picker.selectOption("openai/gpt-4o-mini");
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    await page.getByLabel("Message").fill(`hello hub ${words}`);
    await page.getByRole("button", { name: "Send" }).click();
    // streamed: the stop button is there while tokens arrive
    await page.getByRole("button", { name: "Stop" }).waitFor();
    const answer = page.locator(".msg.assistant").last();
    await answer.locator(".msg-text", { hasText: "Echo: hello hub" }).waitFor();
    await answer.locator(".msg-text", { hasText: "word39" }).waitFor({ timeout: 30_000 });
    const meta = answer.getByTestId("answer-meta");
    await meta.filter({ hasText: "output tokens" }).waitFor();
    assert.match(await meta.innerText(), /\d+ input tokens · \d+ output tokens · first token \d+ ms · total \d+ ms/);
    await shot(page, "playground-chat");
    // stop a second answer mid-stream
    await page.getByLabel("Message").fill(`stop me ${words}`);
    await page.getByRole("button", { name: "Send" }).click();
    await answer.page().locator(".msg.assistant").last().locator(".msg-text", { hasText: "Echo: stop" }).waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    const stopped = page.locator(".msg.assistant").last();
    await stopped.getByTestId("answer-meta").filter({ hasText: "stopped" }).waitFor();
    assert.ok(!(await stopped.innerText()).includes("word39"), "the stopped answer kept streaming");
    // history is kept in this browser
    await page.reload();
    await page.locator(".msg.user", { hasText: "hello hub" }).waitFor();
    assert.equal(await page.locator(".msg.assistant").count(), 2);
  },

  async image({ page }) {
    await signIn(page, env.ADMIN_KEY, "/playground");
    await page.getByRole("tab", { name: "Image" }).click();
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.locator('option[value="openai/dall-e-3"]').waitFor({ state: "attached" });
    await picker.selectOption("openai/dall-e-3");
    // only the sizes the model accepts are offered (dall-e-3 refuses 256x256 and 512x512)
    const sizes = await page.getByLabel("Size").locator("option").allTextContents();
    assert.deepEqual(sizes, ["1024x1024", "1792x1024", "1024x1792"]);
    await page.getByLabel("Prompt").fill("a lighthouse at dusk");
    await page.getByRole("button", { name: "Generate" }).click();
    const img = page.getByRole("img", { name: /Generated image 1/ });
    await img.waitFor();
    const loaded = await img.evaluate((el) => el.complete && el.naturalWidth > 0);
    assert.ok(loaded, "generated image did not load");
    await shot(page, "playground-image");
    await page.getByRole("tab", { name: "Embeddings" }).click();
    await picker.locator('option[value="openai/text-embedding-3-small"]').waitFor({ state: "attached" });
    await picker.selectOption("openai/text-embedding-3-small");
    await page.getByLabel("Text").fill("vectors please");
    await page.getByRole("button", { name: "Embed" }).click();
    await page.getByTestId("answer-meta").filter({ hasText: "dimensions" }).waitFor();
    await shot(page, "playground-embeddings");
  },

  async keys({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/users");
    await page.getByRole("heading", { name: "Users and access keys" }).waitFor();
    await page.getByRole("button", { name: "New key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Key name").fill("ci-app");
    await dialog.getByLabel("Belongs to").selectOption("new");
    await dialog.getByLabel("New user's name").fill("ci-user");
    await dialog.getByRole("button", { name: "Create key" }).click();
    const shown = page.getByTestId("new-key");
    await shown.waitFor();
    const key = (await shown.innerText()).trim();
    assert.match(key, /^ahk-/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    await shot(page, "key-created");
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal((await chatStatus(key)).status, 200);
    const row = page.locator('tr[data-key="ci-app"]');
    await row.getByText("active").waitFor();
    await page.locator('tr[data-user="ci-user"]').waitFor();
    await shot(page, "users-and-keys");
    await row.getByRole("button", { name: "Revoke key ci-app" }).click();
    await row.getByText("revoked").waitFor();
    const after = await chatStatus(key);
    assert.equal(after.status, 401, JSON.stringify(after.body));
  },

  async usage({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/usage");
    await page.getByRole("heading", { name: "Usage analytics" }).waitFor();
    const history = page.getByTestId("call-history");
    await history.waitFor();
    // the playground's streamed chat is in the history, found by search, with its tokens
    await page.getByLabel("Search calls").fill("gpt-4o-mini");
    const row = history.locator("tbody tr", { hasText: "gpt-4o-mini" }).first();
    await row.waitFor();
    await page.getByRole("combobox", { name: "Status" }).selectOption("aborted");
    await history.locator("tbody tr", { hasText: "aborted" }).first().waitFor();
    await page.getByRole("combobox", { name: "Status" }).selectOption("");
    await page.getByLabel("Search calls").fill("");
    await page.getByRole("img", { name: "Calls" }).waitFor();
    await page.getByText("Top models by calls").waitFor();
    const calls = await page.locator(".stat", { hasText: "Calls" }).locator(".stat-value").innerText();
    assert.ok(Number(calls.replace(/,/g, "")) >= 4, `calls shown: ${calls}`);
    // CSV export downloads the filtered history
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    const csvPath = path.join(env.FAILURES ?? "/tmp", "calls.csv");
    await download.saveAs(csvPath);
    const csv = (await import("node:fs")).readFileSync(csvPath, "utf8");
    assert.match(csv, /gpt-4o-mini/);
    await shot(page, "usage");
    console.log(JSON.stringify({ usage: "found-call", csvLines: csv.trim().split("\n").length }));
  },

  async rates({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/models");
    await page.getByRole("heading", { name: "Models and rates" }).waitFor();
    await page.getByRole("button", { name: "New rate" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("checkbox", { name: "OpenAI" }).check();
    await dialog.getByLabel("Model ID").fill("gpt-4o-mini");
    await dialog.getByLabel("Input credits per 1M tokens").fill("150");
    await dialog.getByLabel("Output credits per 1M tokens").fill("600");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    const row = page.locator("tbody tr", { hasText: "gpt-4o-mini" });
    await row.getByText("150", { exact: true }).waitFor();
    await row.getByText("600", { exact: true }).waitFor();
    await row.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("dialog").getByLabel("Output credits per 1M tokens").fill("800");
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await row.getByText("800", { exact: true }).waitFor();
    await shot(page, "models-and-rates");
  },

  async credits({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/credits");
    await page.getByRole("heading", { name: "Credits", exact: true }).waitFor();
    const mode = page.getByRole("combobox", { name: "Billing mode" });
    await mode.selectOption("credits");
    // choosing explains the mode; nothing changes until the admin confirms it
    await page.getByTestId("mode-preview").filter({ hasText: "paid from the caller's credits" }).waitFor();
    assert.equal(await page.getByText("charges credits").count(), 0, "the mode applied before it was confirmed");
    await page.getByRole("button", { name: "Apply…" }).click();
    await page.getByRole("dialog", { name: "Switch billing to Credits?" }).getByRole("button", { name: "Switch" }).click();
    await page.getByRole("status").filter({ hasText: "Billing mode is now Credits." }).waitFor();
    await page.getByText("charges credits").waitFor();
    await page.getByLabel("Find user").fill("member-user");
    await page.getByRole("button", { name: "Grant to member-user" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Amount (credits)").fill("25");
    await dialog.getByLabel("Reason").fill("e2e welcome");
    await dialog.getByRole("button", { name: "Grant" }).click();
    await dialog.waitFor({ state: "detached" });
    const account = page.locator('tr[data-account="member-user"]');
    await account.getByText("25", { exact: true }).first().waitFor();
    await account.getByRole("button", { name: "Ledger" }).click();
    await page.getByRole("dialog").getByText("e2e welcome").waitFor();
    await shot(page, "credits-ledger");
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    // a charged call from the member: the balance goes down by the rate set on the rates page
    const paid = await chatStatus(env.MEMBER_KEY);
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    await page.reload();
    await eventually(async () => {
      const text = await page.locator('tr[data-account="member-user"] td').nth(1).innerText();
      return Number(text) < 25;
    }, "a charged balance", 10_000).catch(async () => {
      await page.reload();
      const text = await page.locator('tr[data-account="member-user"] td').nth(1).innerText();
      assert.ok(Number(text) < 25, `balance after a charged call: ${text}`);
    });
    await shot(page, "credits");
    // credits mode stays on: the member and pricing scenarios show balances and prices
  },

  async member({ page }) {
    await signIn(page, env.MEMBER_KEY);
    await page.waitForURL(/\/account$/);
    await page.getByRole("heading", { name: "My account" }).waitFor();
    if (env.EXPECT_CREDITS) await page.getByTestId("credit-balance").waitFor();
    // members see no console entries and are refused there
    assert.equal(await page.getByRole("link", { name: "Providers" }).count(), 0);
    await page.getByRole("button", { name: "New key" }).click();
    await page.getByRole("dialog").getByLabel("Key name").fill("my-laptop");
    await page.getByRole("dialog").getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("new-key").innerText()).trim();
    await page.getByRole("button", { name: "Done" }).click();
    assert.equal((await chatStatus(key)).status, 200);
    await page.locator('tr[data-key="my-laptop"]').waitFor();
    await shot(page, "my-account");
    if (env.EXPECT_CREDITS) {
      // in credits mode each answer shows what it cost
      await page.getByRole("link", { name: "Playground" }).click();
      const picker = page.getByRole("combobox", { name: "Model" });
      await picker.locator('option[value="openai/gpt-4o-mini"]').waitFor({ state: "attached" });
      await picker.selectOption("openai/gpt-4o-mini");
      await page.getByLabel("Message").fill("what does this cost");
      await page.getByRole("button", { name: "Send" }).click();
      await page.getByTestId("answer-meta").filter({ hasText: /\d credits/ }).waitFor();
      await shot(page, "playground-credits");
    }
    await page.goto(`${HUB}/console/providers`);
    await page.getByRole("heading", { name: "Administrators only" }).waitFor();
  },

  async pricing({ page }) {
    await page.goto(`${HUB}/pricing`);
    await page.getByRole("heading", { name: "Pricing" }).waitFor();
    await Promise.race([page.getByTestId("not-available").waitFor(), page.locator("table").waitFor()]);
    await shot(page, "pricing");
  },

  async chinese({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console");
    await page.getByRole("combobox", { name: "Language" }).selectOption("zh");
    await page.getByRole("heading", { name: "快速开始" }).waitFor();
    await shot(page, "quick-start-zh");
    await page.reload();
    await page.getByRole("heading", { name: "快速开始" }).waitFor(); // the choice is remembered
  },

  async phone() {
    const { browser, page } = await launch({ width: 390, height: 844 });
    try {
      await signIn(page, env.ADMIN_KEY, "/playground");
      await page.getByRole("heading", { name: "Playground" }).waitFor();
      const o1 = await overflow(page);
      assert.ok(o1.width <= 390, `page scrolls sideways on a phone: ${JSON.stringify(o1)}`);
      await shot(page, "phone-playground");
      await page.getByRole("button", { name: /Menu/ }).click();
      await page.getByRole("link", { name: "Providers" }).click();
      await page.getByRole("heading", { name: "Providers and credentials" }).waitFor();
      await page.locator('article[data-provider="openai"] table').waitFor();
      const o2 = await overflow(page);
      assert.ok(o2.width <= 390, `providers page scrolls sideways on a phone: ${JSON.stringify(o2)}`);
      await shot(page, "phone-providers");
    } finally {
      await browser.close();
    }
  },

  async mounted({ page }) {
    // HUB_URL points at a hub mounted under a path prefix
    await page.goto(`${HUB}/`);
    await page.waitForURL(/\/signin/);
    assert.ok(new URL(page.url()).pathname.startsWith(new URL(HUB).pathname), page.url());
    await signIn(page, env.ADMIN_KEY, "/console/plugins");
    await page.locator('tr[data-plugin="openai"]').waitFor();
    await page.getByRole("link", { name: "Providers" }).click();
    await page.waitForURL(`${HUB}/console/providers`);
    await page.getByRole("heading", { name: "Providers and credentials" }).waitFor();
  },
};

await runScenario(scenarios, ["phone"]);
