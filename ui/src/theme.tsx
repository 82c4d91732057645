// Light and dark: the system's setting by default; the header's menu can pin one, remembered in this browser.
// The choice is the `data-theme` attribute on <html>, which styles.css reads (no attribute: follow the system).
import { useCallback, useState } from "react";

export type Theme = "system" | "light" | "dark";
const KEY = "aigne-hub:theme";

export function savedTheme(): Theme {
  const v = typeof localStorage !== "undefined" ? localStorage.getItem(KEY) : null;
  return v === "light" || v === "dark" ? v : "system";
}

export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setState] = useState<Theme>(savedTheme);
  const set = useCallback((t: Theme) => {
    if (t === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, t);
    applyTheme(t);
    setState(t);
  }, []);
  return [theme, set];
}
