import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { vi } from "vitest";
import type { Session } from "../api";
import { AuthProvider } from "../auth";
import { I18nProvider, type Lang } from "../i18n";
import { Router } from "../router";

export const owner: Session = {
  user: { id: 1, did: "z1", name: "owner", role: "owner" },
  key: { id: 1, name: "initial admin key" },
  isAdmin: true,
  via: "session",
  csrfToken: "csrf-token",
};

export const member: Session = { ...owner, user: { id: 2, did: "z2", name: "bob", role: "member" }, key: { id: 2, name: "bob" }, isAdmin: false };

type Handler = (url: string, init: RequestInit) => unknown;

/** Stub fetch with a route table: "GET /api/x" -> a JSON body, or [status, body]. */
export function mockApi(routes: Record<string, unknown | Handler>) {
  const calls: { method: string; url: string; init: RequestInit }[] = [];
  const fetchMock = vi.fn(async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? "GET").toUpperCase();
    calls.push({ method, url, init });
    const path = url.split("?")[0];
    const entry = routes[`${method} ${path}`];
    if (entry === undefined) return json(404, { error: { message: "Not found", code: "not_found" } });
    const value = typeof entry === "function" ? (entry as Handler)(url, init) : entry;
    if (Array.isArray(value) && typeof value[0] === "number" && value.length === 2) return json(value[0], value[1]);
    return json(200, value);
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function renderWith(ui: ReactNode, opts: { session?: Session | null | "fetch"; lang?: Lang; path?: string } = {}) {
  if (opts.path) window.history.replaceState(null, "", opts.path);
  return render(
    <I18nProvider lang={opts.lang ?? "en"}>
      <Router>
        <AuthProvider initial={opts.session === "fetch" ? undefined : opts.session === undefined ? owner : opts.session}>{ui}</AuthProvider>
      </Router>
    </I18nProvider>,
  );
}
