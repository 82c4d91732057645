// Shared pieces of the browser scenarios (console.mjs, admin.mjs): Debian's Chromium through playwright-core
// (no browser download), screenshots, sign-in, API calls from outside the browser, and the scenario runner.
// Environment: HUB_URL, ADMIN_KEY, FAKE_URL, FAKE_KEY, CHROMIUM, SCREENSHOTS, FAILURES, MEMBER_KEY.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../ui/package.json"));
const { chromium } = require("playwright-core");

export const env = process.env;
export const HUB = env.HUB_URL;
export const SHOTS = env.SCREENSHOTS;
export const TIMEOUT = 15_000;
export { assert };

export async function launch(viewport = { width: 1280, height: 860 }, options = {}) {
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  const context = await browser.newContext({ viewport, locale: "en-US", ...options });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e.stack ?? e)));
  page.on("dialog", (d) => d.accept()); // window.confirm in revoke/delete
  return { browser, context, page, errors };
}

export async function shot(page, name) {
  if (!SHOTS) return;
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.evaluate(() => window.scrollTo(0, 0)); // a sticky header is drawn where the page was scrolled to
  await page.waitForTimeout(150); // let transitions settle so screenshots are stable
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page's width and, when it overflows a phone screen, the elements that stick out. */
export async function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > w + 1 && !el.parentElement?.closest(".table-wrap"))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${Math.round(el.getBoundingClientRect().right)}`);
    return { width: document.documentElement.scrollWidth, out };
  });
}

export async function signIn(page, key = env.ADMIN_KEY, next = "") {
  await page.goto(`${HUB}/signin${next ? `?next=${encodeURIComponent(next)}` : ""}`);
  await page.getByLabel("Access key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** A call from an API client (not the browser): proves the UI's changes reached the gateway. */
export async function chatStatus(key, model = "openai/gpt-4o-mini", extra = {}) {
  const resp = await fetch(`${HUB}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "ping" }], ...extra }),
  });
  return { status: resp.status, body: await resp.json() };
}

/** An admin API call from outside the browser (setup steps a scenario does not test). */
export async function api(method, pathname, body, key = env.ADMIN_KEY) {
  const resp = await fetch(`${HUB}${pathname}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  return { status: resp.status, body: text ? JSON.parse(text) : null, headers: resp.headers };
}

export async function eventually(fn, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** Run `process.argv[2]` of `scenarios`; a scenario named in `ownBrowser` launches its own browser. */
export async function runScenario(scenarios, ownBrowser = []) {
  const name = process.argv[2];
  if (!scenarios[name]) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  const ctx = ownBrowser.includes(name) ? null : await launch();
  try {
    await scenarios[name](ctx ?? {});
    if (ctx?.errors.length) throw new Error(`page errors: ${ctx.errors.join("; ")}`);
    console.log(`scenario ${name}: ok`);
  } catch (err) {
    if (ctx && SHOTS)
      await ctx.page.screenshot({ path: path.join(env.FAILURES ?? SHOTS, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
    console.error(`scenario ${name} failed: ${err.stack ?? err}`);
    if (ctx?.errors.length) console.error(`page errors:\n${ctx.errors.join("\n")}`);
    process.exitCode = 1;
  } finally {
    await ctx?.browser.close();
  }
}
