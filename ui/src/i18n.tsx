// English and Chinese. The English text is the key; `zh` maps it to Chinese (English shows when missing,
// and a unit test fails on any t("...") literal without a translation). "{name}" placeholders are filled in.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { zh } from "./locales/zh";

export type Lang = "en" | "zh";
type Vars = Record<string, string | number>;

interface I18n {
  lang: Lang;
  setLang: (l: Lang) => void;
  t: (text: string, vars?: Vars) => string;
}

export function translate(lang: Lang, text: string, vars?: Vars): string {
  const s = lang === "zh" ? (zh[text] ?? text) : text;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

function initialLang(): Lang {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem("aigne-hub:lang") : null;
  if (saved === "en" || saved === "zh") return saved;
  return typeof navigator !== "undefined" && navigator.language?.toLowerCase().startsWith("zh") ? "zh" : "en";
}

const I18nContext = createContext<I18n>({ lang: "en", setLang: () => {}, t: (s, v) => translate("en", s, v) });

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(fixed ?? initialLang);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem("aigne-hub:lang", l);
    setLangState(l);
  }, []);
  // also for the language remembered from an earlier visit: screen readers pick their voice from it
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);
  const t = useCallback((text: string, vars?: Vars) => translate(lang, text, vars), [lang]);
  const value = useMemo(() => ({ lang, setLang, t }), [lang, setLang, t]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export const useI18n = () => useContext(I18nContext);

export function formatNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return n.toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function formatDate(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === "") return "–";
  const d = typeof iso === "number" ? new Date(iso < 1e12 ? iso * 1000 : iso) : new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}
