// A small history router: paths are relative to the hub's mount path, so links work under any prefix.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type AnchorHTMLAttributes, type ReactNode } from "react";
import { mountPath } from "./api";

interface RouterState {
  path: string;
  query: URLSearchParams;
  navigate: (to: string, opts?: { replace?: boolean }) => void;
}

const RouterContext = createContext<RouterState>({ path: "/", query: new URLSearchParams(), navigate: () => {} });

function currentPath(): string {
  const base = mountPath();
  let p = window.location.pathname;
  if (base && p.startsWith(base)) p = p.slice(base.length);
  return p || "/";
}

export function Router({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(() => ({ path: currentPath(), search: window.location.search }));
  useEffect(() => {
    const onPop = () => setLoc({ path: currentPath(), search: window.location.search });
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const navigate = useCallback((to: string, opts: { replace?: boolean } = {}) => {
    const full = mountPath() + to;
    if (opts.replace) window.history.replaceState(null, "", full);
    else window.history.pushState(null, "", full);
    setLoc({ path: currentPath(), search: window.location.search });
    window.scrollTo?.(0, 0);
  }, []);
  const value = useMemo(() => ({ path: loc.path, query: new URLSearchParams(loc.search), navigate }), [loc, navigate]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export const useRouter = () => useContext(RouterContext);

/** Match "/console/usage/projects/:appDid" against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split("/").filter(Boolean);
  const b = path.split("/").filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(":")) params[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return params;
}

export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const { navigate } = useRouter();
  return (
    <a
      href={mountPath() + to}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        rest.onClick?.(e);
        navigate(to);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}
