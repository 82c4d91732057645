// Browser scenarios for bugs 13, 16 and 17 of issue 16 and the playground's Video tab, run by
// tests/e2e/test_issue16_bugs_e2e.py: `node bugs.mjs SCENARIO`. The hub's OpenAI provider points at the fake
// started as `python -m hub_core.testing.fake_openai PORT` (FAKE_URL; it takes any key). Helpers are in lib.mjs.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HUB, api, assert, chatStatus, env, eventually, launch, runScenario, shot, signIn } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const AXE = createRequire(path.join(here, "../../ui/package.json")).resolve("axe-core/axe.min.js");

const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async function openaiProvider() {
  return (await api("GET", "/api/ai-providers")).body.find((p) => p.name === "openai");
}

/** A catalogue entry of the public model list, as the page fetches it. */
async function catalogueEntry(page, model) {
  const list = await page.evaluate(async () => (await (await fetch("/api/ai/models?type=chat")).json()));
  return list.find((m) => m.model === model && m.provider === "openai");
}

const scenarios = {
  // The OpenAI provider on the subprocess fake, with one credential (set up through the API: the console's
  // add form has its own tests in admin.mjs).
  async setup() {
    const made = await api("POST", "/api/ai-providers", {
      name: "openai",
      enabled: true,
      baseUrl: env.FAKE_URL,
      config: { models: ["gpt-4o-mini", "dall-e-3", "gpt-image-1", "sora-2"] },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const cred = await api("POST", `/api/ai-providers/${made.body.id}/credentials`, { name: "main", value: { api_key: "sk-fake-subprocess-0000" }, verify: false });
    assert.equal(cred.status, 201, JSON.stringify(cred.body));
    assert.deepEqual((await openaiProvider()).config.models, ["gpt-4o-mini", "dall-e-3", "gpt-image-1", "sora-2"]);
  },

  // 16 (docs): the catalogue's `status` is null until a call reaches the model, then says it is available.
  async catalogueStatus({ page }) {
    await page.goto(`${HUB}/pricing`);
    const before = await catalogueEntry(page, "gpt-4o-mini");
    assert.ok(before, "gpt-4o-mini is not in the catalogue");
    assert.equal(before.status, null, `status before any call: ${JSON.stringify(before.status)}`);
    assert.equal((await chatStatus(env.ADMIN_KEY)).status, 200);
    const after = await eventually(async () => {
      const entry = await catalogueEntry(page, "gpt-4o-mini");
      return entry?.status ? entry : null;
    }, "the catalogue status after a call");
    assert.equal(after.status.available, true, JSON.stringify(after.status));
  },

  // 16: a browser holding only the original hub's `login_token` cookie (a valid admin key) is not signed in:
  // the console sends it to the sign-in page and the admin API answers 401.
  async loginTokenCookie() {
    const { browser, context, page, errors } = await launch();
    try {
      await context.addCookies([{ name: "login_token", value: env.ADMIN_KEY, url: HUB }]);
      await page.goto(`${HUB}/console/providers`);
      await page.getByLabel("Access key").waitFor();
      assert.equal(new URL(page.url()).pathname, "/signin");
      assert.equal(await page.getByRole("button", { name: "Sign out" }).count(), 0);
      assert.equal(await page.getByRole("heading", { name: "Providers and credentials" }).count(), 0);
      const statuses = await page.evaluate(async () => {
        const out = {};
        for (const path of ["/api/ai-providers", "/api/admin/users", "/api/user/info"]) out[path] = (await fetch(path)).status;
        out.cookieSent = document.cookie.includes("login_token=");
        return out;
      });
      assert.equal(statuses.cookieSent, true, "the cookie was not set on the page");
      assert.deepEqual(statuses, { "/api/ai-providers": 401, "/api/admin/users": 401, "/api/user/info": 401, cookieSent: true });
      await shot(page, "login-token-cookie-refused");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },

  // 13: the admin edits the provider in the console; the PUT's answer and the list keep its credential.
  async providerEdit({ page }) {
    await signIn(page, env.ADMIN_KEY, "/console/providers");
    const card = page.locator('article[data-provider="openai"]');
    await card.locator('tr[data-credential="main"]').waitFor();
    await card.getByRole("button", { name: "Edit" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Display name").fill("OpenAI (fake)");
    const [put] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "PUT" && /\/api\/ai-providers\/\d+$/.test(new URL(r.url()).pathname)),
      dialog.getByRole("button", { name: "Save" }).click(),
    ]);
    assert.equal(put.status(), 200);
    const answered = await put.json();
    assert.deepEqual(answered.credentials.map((c) => c.name), ["main"], `PUT answered ${JSON.stringify(answered.credentials)}`);
    await page.getByTestId("providers-notice").filter({ hasText: "Provider OpenAI (fake) saved." }).waitFor();
    await card.locator('tr[data-credential="main"]').waitFor();
    assert.equal(await card.getByText("No credential", { exact: true }).count(), 0);
    await page.reload();
    await card.locator('tr[data-credential="main"]').waitFor();
    assert.deepEqual((await openaiProvider()).credentials.map((c) => c.name), ["main"]);
    await api("PUT", `/api/ai-providers/${answered.id}`, { displayName: "OpenAI" });
  },

  // 17: the playground's Image tab draws through the subprocess fake; the playground has no image edit, so the
  // edit endpoint is called from the signed-in page (multipart, as the SDKs send it), which the fake used to
  // answer with a 500.
  async imageThroughSubprocessFake({ page }) {
    await signIn(page, env.ADMIN_KEY, "/playground");
    await page.getByRole("tab", { name: "Image" }).click();
    await page.getByRole("combobox", { name: "Model" }).selectOption("openai/dall-e-3");
    await page.getByLabel("Prompt").fill("a red dot");
    await page.getByRole("button", { name: "Generate" }).click();
    const img = page.getByRole("img", { name: /Generated image 1 for: a red dot/ });
    await img.waitFor();
    assert.match(await img.getAttribute("src"), /^data:image\/png;base64,/);
    const edit = await page.evaluate(async (png) => {
      const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
      const form = new FormData();
      form.append("model", "openai/gpt-image-1");
      form.append("prompt", "make it blue");
      form.append("image", new Blob([bytes], { type: "image/png" }), "dot.png");
      const csrf = document.cookie.split("; ").find((c) => c.startsWith("aigne_hub_csrf="))?.split("=")[1];
      const resp = await fetch("/v1/images/edits", { method: "POST", body: form, headers: { "X-CSRF-Token": csrf ?? "" } });
      return { status: resp.status, body: await resp.json() };
    }, PNG_1PX);
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    assert.ok(edit.body.data?.[0]?.b64_json, JSON.stringify(edit.body));
  },

  // Item 6: the Video tab: video models only, a prompt, length and size, the job run to the end, the clip
  // shown with a link; a failure is shown as an error, not a blank result.
  async videoTab({ page }) {
    await signIn(page, env.ADMIN_KEY, "/playground");
    await page.getByRole("tab", { name: "Video" }).click();
    const picker = page.getByRole("combobox", { name: "Model" });
    await picker.locator('option[value="openai/sora-2"]').waitFor({ state: "attached" });
    assert.deepEqual(await picker.locator("option").allTextContents(), ["sora-2"]);
    await page.getByLabel("Prompt").fill("a paper boat on a pond");
    await page.getByLabel("Length (seconds)").selectOption("8");
    await page.getByLabel("Size").selectOption("1280x720");
    const [resp] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v2/video"),
      page.getByRole("button", { name: "Generate" }).click(),
    ]);
    const sent = JSON.parse(resp.request().postData());
    assert.deepEqual(sent.input, { prompt: "a paper boat on a pond", seconds: "8", size: "1280x720", modelOptions: { model: "openai/sora-2" } });
    const result = page.getByTestId("video-result");
    await result.waitFor();
    await result.getByTestId("answer-meta").filter({ hasText: "8 s of video" }).waitFor();
    const src = await result.locator("video").getAttribute("src");
    const link = await result.getByRole("link", { name: "Open the video" }).getAttribute("href");
    assert.equal(link, src);
    const clip = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get("content-type"), size: (await r.arrayBuffer()).byteLength };
    }, src);
    assert.equal(clip.status, 200);
    assert.equal(clip.type, "video/mp4");
    assert.ok(clip.size > 0);
    console.log(JSON.stringify({ video: src }));

    // the provider goes away while the page is open: the error says why, the form stays usable
    const p = await openaiProvider();
    await api("PUT", `/api/ai-providers/${p.id}`, { enabled: false });
    try {
      await eventually(async () => (await chatStatus(env.ADMIN_KEY)).status !== 200, "the provider disabled");
      await page.getByRole("button", { name: "Generate" }).click();
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.equal(await alert.innerText(), "Provider 'openai' is disabled by the admin");
      assert.equal(await result.count(), 0, "a failed job left the old result on the page");
      await page.getByRole("button", { name: "Generate" }).waitFor();
    } finally {
      await api("PUT", `/api/ai-providers/${p.id}`, { enabled: true });
    }
  },

  // The Video tab with a clip, in both themes and languages: axe-core's colour-contrast check passes, and the
  // screenshots (playground-video-<theme>-<lang>.png).
  async videoThemes() {
    const report = [];
    for (const [scheme, lang] of [["light", "en"], ["dark", "en"], ["light", "zh"], ["dark", "zh"]]) {
      // axe is injected as an inline script, which the console's Content-Security-Policy (rightly) refuses
      const { browser, page, errors } = await launch(undefined, { colorScheme: scheme, bypassCSP: true });
      try {
        await signIn(page, env.ADMIN_KEY, "/playground");
        await page.evaluate((l) => localStorage.setItem("aigne-hub:lang", l), lang);
        await page.reload();
        await page.getByRole("tab", { name: lang === "zh" ? "视频" : "Video" }).click();
        await page.locator('select option[value="openai/sora-2"]').waitFor({ state: "attached" });
        await page.locator('textarea[name="prompt"]').fill(lang === "zh" ? "池塘上的纸船" : "a paper boat on a pond");
        await page.locator("form button[type=submit]").click();
        await page.getByTestId("video-result").waitFor();
        await page.addScriptTag({ path: AXE });
        const violations = await page.evaluate(async () => {
          const r = await window.axe.run(document, { runOnly: ["color-contrast"] });
          return r.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(" ")}: ${n.any[0]?.message ?? v.help}`));
        });
        report.push(...violations.map((v) => `${scheme}-${lang} ${v}`));
        await shot(page, `playground-video-${scheme}-${lang}`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    }
    assert.deepEqual(report, [], `contrast violations:\n${report.join("\n")}`);
  },
};

await runScenario(scenarios, ["loginTokenCookie", "setup", "videoThemes"]);
