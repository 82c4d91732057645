import { describe, expect, it, vi } from "vitest";
import { ApiError, auth, isNotAvailable, onUnauthorized, request, setCsrfToken } from "../api";
import { mockApi } from "./helpers";

describe("api client", () => {
  it("sends the CSRF cookie as a header on writes only, under the mount path", async () => {
    document.head.insertAdjacentHTML("beforeend", '<meta name="aigne-hub-mount" content="/hub">');
    document.cookie = "aigne_hub_csrf=abc123; path=/";
    setCsrfToken(null);
    const calls = mockApi({ "GET /hub/api/admin/plugins": [], "PUT /hub/api/admin/plugins/openai": { name: "openai" } });
    await request("GET", "/api/admin/plugins");
    await request("PUT", "/api/admin/plugins/openai", { enabled: false });
    const headers = (i: number) => calls[i].init.headers as Record<string, string>;
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(["GET /hub/api/admin/plugins", "PUT /hub/api/admin/plugins/openai"]);
    expect(headers(0)["X-CSRF-Token"]).toBeUndefined();
    expect(headers(1)["X-CSRF-Token"]).toBe("abc123");
    expect(calls[1].init.body).toBe('{"enabled":false}');
    expect(calls[1].init.credentials).toBe("same-origin");
    document.head.querySelector('meta[name="aigne-hub-mount"]')?.remove();
  });

  it("turns error bodies into ApiError and tells the app about a 401", async () => {
    mockApi({
      "GET /api/admin/users": [401, { error: { message: "Unauthorized: access key revoked", code: "unauthorized" } }],
    });
    const signedOut = vi.fn();
    const stop = onUnauthorized(signedOut);
    const err = (await request("GET", "/api/admin/users").catch((e: ApiError) => e)) as ApiError;
    stop();
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(401);
    expect(err.message).toBe("Unauthorized: access key revoked");
    expect(signedOut).toHaveBeenCalledOnce();
  });

  it("does not broadcast the 401 of a failed sign-in", async () => {
    mockApi({ "POST /api/auth/session": [401, { error: { message: "Unauthorized: invalid or missing access key" } }] });
    const signedOut = vi.fn();
    const stop = onUnauthorized(signedOut);
    await expect(auth.signIn("ahk-wrong")).rejects.toThrow("invalid or missing access key");
    stop();
    expect(signedOut).not.toHaveBeenCalled();
  });

  it("recognises a missing optional API", async () => {
    mockApi({});
    const err = await request("GET", "/api/admin/credits/accounts").catch((e: ApiError) => e);
    expect(isNotAvailable(err)).toBe(true);
    expect(isNotAvailable(new ApiError(500, "internal_error", "boom"))).toBe(false);
  });

  it("reports an unreachable hub as a network error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const err = (await request("GET", "/api/admin/plugins").catch((e: ApiError) => e)) as ApiError;
    expect(err.code).toBe("network_error");
  });
});
