// Browser scenario for the audit log (issue 16 item 4), run by tests/e2e/test_audit_e2e.py:
// `node audit.mjs SCENARIO`. Helpers are in lib.mjs.
import { api, assert, env, eventually, launch, runScenario, shot, signIn } from "./lib.mjs";

const scenarios = {
  // An admin creates a user in the console, then finds that change on the Audit log page: their name as the
  // actor, the action, and the new record's fields in the before/after view; filters narrow the list.
  async userChange({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/users");
    await page.getByRole("button", { name: "New user" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill("audited-user");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await dialog.waitFor({ state: "detached" });

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const row = page.locator('tr[data-action="user.create"]').first();
    await row.waitFor();
    assert.match(await row.textContent(), /owner/); // the signed-in admin is the actor
    await row.getByRole("button", { name: "Show changes" }).click();
    const diff = page.getByTestId("audit-diff");
    assert.match(await diff.locator('tr[data-field="name"]').textContent(), /audited-user/);
    assert.match(await diff.locator('tr[data-field="role"]').textContent(), /member/);

    // the action filter keeps only that kind of change; "cli" as the actor finds none of the console's
    await page.getByLabel("Action").selectOption("user.");
    const others = page.locator("tr[data-action]:not([data-action^='user.'])");
    await eventually(async () => (await others.count()) === 0, "only user.* entries");
    await page.locator('tr[data-action="user.create"]').first().waitFor();
    await page.getByLabel("Actor (name, user id or cli)").fill("cli");
    await page.getByText("No changes recorded yet.").waitFor();
    await page.getByLabel("Actor (name, user id or cli)").fill("");
    await page.locator('tr[data-action="user.create"]').first().waitFor();
    await page.getByTestId("audit-diff").waitFor(); // the entry opened above stays open
    await shot(page, "audit-log-light-en");
  },

  // A credits grant made on the Credits page is on the Audit log page too (the credits plugin records it
  // through hub.audit): the admin as the actor, the balance before and after, the reason.
  async creditsGrant({ page }) {
    const before = (await api("GET", "/api/admin/billing")).body.active;
    await api("PUT", "/api/admin/billing", { mode: "credits" });
    try {
      await signIn(page, env.ADMIN_KEY, "/console/credits");
      await page.getByLabel("Find user").fill("audited-user");
      await page.getByRole("button", { name: "Grant to audited-user" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Amount (credits)").fill("7.5");
      await dialog.getByLabel("Reason").fill("audit e2e");
      await dialog.getByRole("button", { name: "Grant" }).click();
      await dialog.waitFor({ state: "detached" });
    } finally {
      await api("PUT", "/api/admin/billing", { mode: before });
    }
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Action").selectOption("credits.");
    const row = page.locator('tr[data-action="credits.grant"]').first();
    await row.waitFor();
    assert.match(await row.textContent(), /owner/);
    assert.equal(await page.locator("tr[data-action]:not([data-action^='credits.'])").count(), 0);
    await row.getByRole("button", { name: "Show changes" }).click();
    const diff = page.getByTestId("audit-diff");
    const balance = await diff.locator('tr[data-field="balance"]').textContent();
    assert.match(balance, /0/);
    assert.match(balance, /7\.5/);
    assert.match(await diff.locator('tr[data-field="reason"]').textContent(), /audit e2e/);
  },

  // The same page in the other themes and languages, for the screenshots and to see it renders there.
  async darkZh() {
    for (const [scheme, lang] of [["dark", "zh"], ["light", "zh"], ["dark", "en"]]) {
      const { browser, page, errors } = await launch(undefined, { colorScheme: scheme });
      try {
        await signIn(page, env.ADMIN_KEY, "/console/audit");
        await page.evaluate((l) => localStorage.setItem("aigne-hub:lang", l), lang);
        await page.reload();
        await page.getByRole("heading", { name: lang === "zh" ? "审计日志" : "Audit log" }).waitFor();
        const row = page.locator('tr[data-action="user.create"]').first();
        await row.getByRole("button", { name: lang === "zh" ? "查看更改" : "Show changes" }).click();
        await page.getByTestId("audit-diff").waitFor();
        const shown = await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme);
        assert.equal(shown, scheme);
        await shot(page, `audit-log-${scheme}-${lang}`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    }
  },
};

await runScenario(scenarios, ["darkZh"]);
