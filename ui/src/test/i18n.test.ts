import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { translate } from "../i18n";
import { zh } from "../locales/zh";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === "test" ? [] : sources(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

const SRC = path.resolve(import.meta.dirname, "..");

describe("i18n", () => {
  it("has a Chinese text for every English text in the code", () => {
    const missing = new Set<string>();
    for (const file of sources(SRC)) {
      const code = readFileSync(file, "utf8");
      for (const m of code.matchAll(/\bt\("((?:[^"\\]|\\.)*)"/g)) if (!(m[1] in zh)) missing.add(m[1]);
      for (const m of code.matchAll(/\blabel: "([^"]+)"/g)) if (!(m[1] in zh)) missing.add(m[1]);
    }
    expect([...missing]).toEqual([]);
  });

  it("keeps placeholders in translations", () => {
    for (const [en, cn] of Object.entries(zh)) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(names(cn), `${en} -> ${cn}`).toEqual(names(en));
    }
  });

  it("fills placeholders and falls back to English", () => {
    expect(translate("zh", "Page {page} of {pages} · {count} total", { page: 2, pages: 5, count: 90 })).toBe("第 2 / 5 页 · 共 90 条");
    expect(translate("zh", "an untranslated text {x}", { x: 1 })).toBe("an untranslated text 1");
    expect(translate("en", "Add {name}", { name: "OpenAI" })).toBe("Add OpenAI");
  });
});
