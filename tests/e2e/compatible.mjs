// Browser scenario for OpenAI-compatible endpoints without code (issue 13 item 7), run by
// tests/e2e/test_compatible_e2e.py: `node compatible.mjs SCENARIO`. Helpers are in lib.mjs.
import { api, assert, chatStatus, env, eventually, runScenario, shot, signIn } from "./lib.mjs";

const scenarios = {
  // An admin adds the fake upstream as an endpoint named "local" through the console form: Discover lists its
  // models, Save stores it (the key encrypted), the card shows it, and local/<model> answers on the next call.
  async addEndpoint({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    await page.getByRole("button", { name: "Add OpenAI-compatible endpoint" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill("local");
    await dialog.getByLabel("Base URL").fill(env.FAKE_URL);
    await dialog.getByLabel("API key (optional)").fill(env.FAKE_KEY);
    await dialog.getByRole("button", { name: "Discover models" }).click();
    await dialog.getByText("5 models found").waitFor();
    assert.match(await dialog.getByLabel("Models (optional)").inputValue(), /gpt-4o-mini/);
    await dialog.getByLabel("Models (optional)").fill("gpt-4o-mini, text-embedding-3-small");
    await shot(page, "providers-add-compatible");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    const card = page.locator('article[data-provider="local"]');
    await card.getByText("OpenAI-compatible endpoint").waitFor();
    assert.equal(await card.getByText("Its plugin is not installed").count(), 0);
    assert.equal((await card.textContent()).includes(env.FAKE_KEY), false, "the key is shown in full");
    await card.getByRole("button", { name: "Test" }).click();
    await card.getByText(/Test call succeeded/).waitFor();

    const { status, body } = await chatStatus(env.MEMBER_KEY, "local/gpt-4o-mini");
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.choices[0].message.content, "Echo: ping");
    const models = (await api("GET", "/v1/models", undefined, env.MEMBER_KEY)).body.data.map((m) => m.id);
    assert.deepEqual(models.filter((id) => id.startsWith("local/")).sort(), ["local/gpt-4o-mini", "local/text-embedding-3-small"]);

    // a name an installed plugin has is refused in the form, which stays open with the hub's message
    await page.getByRole("button", { name: "Add OpenAI-compatible endpoint" }).click();
    await dialog.getByLabel("Name", { exact: true }).fill("openai");
    await dialog.getByLabel("Base URL").fill(env.FAKE_URL);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByText(/belongs to the installed plugin 'openai'/).waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();

    // deleting it from its card takes local/... out of service
    // (lib.mjs's page accepts the confirm)
    await card.getByRole("button", { name: "Delete", exact: true }).click();
    await card.waitFor({ state: "detached" });
    await eventually(async () => (await chatStatus(env.MEMBER_KEY, "local/gpt-4o-mini")).status === 404, "local/ gone");
  },
};

await runScenario(scenarios);
