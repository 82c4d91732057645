// The hub's HTTP API as the console uses it: one fetch wrapper (mount path, CSRF header, error shape) and
// typed calls per endpoint. Endpoints owned by optional plugins (billing, analytics) answer 404 while they are
// missing or disabled; `isNotAvailable` lets pages show a clear "not available" state instead of an error.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function isNotAvailable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 405) && err.code !== "model_not_found";
}

/** The mount path the hub injected into index.html ("" at the root; "/hub" under AIGNE_HUB_MOUNT_PATH=/hub). */
export function mountPath(): string {
  if (typeof document === "undefined") return "";
  const meta = document.querySelector('meta[name="aigne-hub-mount"]');
  return (meta?.getAttribute("content") ?? "").replace(/\/$/, "");
}

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

let csrfToken: string | null = null;
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const unauthorizedListeners = new Set<() => void>();
/** Called when any request answers 401, so the app can return to the sign-in page. */
export function onUnauthorized(cb: () => void): () => void {
  unauthorizedListeners.add(cb);
  return () => unauthorizedListeners.delete(cb);
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Do not broadcast a 401 (the sign-in and "who am I" calls handle it themselves). */
  quiet401?: boolean;
}

export function url(path: string): string {
  return mountPath() + path;
}

export async function raw(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) {
    const token = csrfToken ?? readCookie("aigne_hub_csrf");
    if (token) headers["X-CSRF-Token"] = token;
  }
  let resp: Response;
  try {
    resp = await fetch(url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "The hub cannot be reached. Check your connection.");
  }
  if (!resp.ok) throw await toError(resp, opts);
  return resp;
}

async function toError(resp: Response, opts: RequestOptions): Promise<ApiError> {
  let code = "http_error";
  let message = `${resp.status} ${resp.statusText}`;
  try {
    const data = await resp.json();
    const err = data?.error ?? data;
    if (typeof err === "string") message = err;
    else if (err && typeof err === "object") {
      message = String(err.message ?? message);
      code = String(err.code ?? err.type ?? code);
      // e.g. what the vendor said about a refused credential ("Invalid credentials: 401 Incorrect API key")
      if (typeof err.detail === "string" && err.detail && !message.includes(err.detail)) message = `${message}: ${err.detail}`;
    }
  } catch {
    // not JSON: keep the status line
  }
  if (resp.status === 401 && !opts.quiet401) unauthorizedListeners.forEach((cb) => cb());
  return new ApiError(resp.status, code, message);
}

export async function request<T>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<T> {
  const resp = await raw(method, path, body, opts);
  const text = await resp.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T>(path: string, opts?: RequestOptions) => request<T>("GET", path, undefined, opts);

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : "";
}

// --- shapes --------------------------------------------------------------------------------------------

export type Role = "owner" | "admin" | "member";

export interface Session {
  user: { id: number; did: string; name: string; role: Role };
  key: { id: number | null; name: string | null };
  isAdmin: boolean;
  via: "session" | "key";
  csrfToken?: string;
}

export interface Page<T> {
  count: number;
  list: T[];
  paging: { page: number; pageSize: number };
}

export interface Credential {
  id: number;
  providerId: number;
  name: string;
  credentialType: string;
  maskedValue: string;
  weight: number;
  active: boolean;
  error: string | null;
  usageCount: number;
  lastUsedAt: string | null;
  createdAt: string | null;
}

export interface Provider {
  id: number;
  name: string;
  /** "plugin", or "openai_compatible": an endpoint an admin added without a plugin */
  kind?: string;
  displayName: string;
  baseUrl: string | null;
  region: string | null;
  enabled: boolean;
  config: Record<string, unknown>;
  plugin: string | null;
  pluginEnabled: boolean;
  credentials: Credential[];
}

export interface JsonSchemaProp {
  type?: string;
  title?: string;
  description?: string;
  secret?: boolean;
  format?: string;
  enum?: string[];
  default?: unknown;
}

export interface CredentialSchema {
  type?: string;
  properties?: Record<string, JsonSchemaProp>;
  required?: string[];
}

export interface AvailableProvider {
  name: string;
  displayName: string;
  defaultBaseUrl: string | null;
  capabilities: string[];
  credentialSchema: CredentialSchema;
  envCredentials?: unknown;
  envBaseUrl?: string | null;
  testModel?: string | null;
  plugin: string | null;
  pluginEnabled: boolean;
}

export interface PluginInfo {
  name: string;
  distribution: string | null;
  version: string | null;
  module: string | null;
  kind: string;
  builtin: boolean;
  hooks: string[];
  registered: Record<string, unknown> | unknown[] | null;
  status: string;
  enabled: boolean;
  error: string | null;
  configSchema?: ConfigSchema | null;
}

/** A plugin's settings schema: a JSON-schema object with string / number / integer / boolean properties. */
export interface ConfigSchema {
  type?: "object";
  properties: Record<
    string,
    {
      type?: "string" | "number" | "integer" | "boolean";
      enum?: (string | number)[];
      default?: unknown;
      title?: string;
      description?: string;
      /** a secret field (also `writeOnly: true` or `format: "password"`): stored encrypted, shown masked */
      secret?: boolean;
      writeOnly?: boolean;
      format?: string;
    }
  >;
  required?: string[];
}

export type ConfigValues = Record<string, string | number | boolean>;

export interface PluginConfig {
  name: string;
  schema: ConfigSchema;
  /** the fields whose values are secrets: `values` and `effective` show them masked */
  secretFields?: string[];
  values: ConfigValues;
  effective: ConfigValues;
}

/** The provider's test call with a credential value (`success` false never arrives: failures are errors). */
export interface CredentialCheck {
  success: boolean;
  model: string | null;
  responseTime: number | null;
  detail?: string;
  credential?: Credential;
}

/** Availability of one provider/model as the last call or check found it. */
export interface ModelAvailability {
  provider: string;
  providerId: number | null;
  model: string;
  type: string;
  available: boolean;
  error: { code: string; message: string } | null;
  responseTime: number | null;
  checkedAt: string;
}

export interface User {
  id: number;
  did: string;
  name: string;
  email: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string | null;
}

export interface AccessKey {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  maskedKey: string;
  role: Role;
  status: "active" | "revoked" | "expired";
  createdAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  current?: boolean;
  key?: string;
}

export interface ModelEntry {
  id: string;
  object: string;
  owned_by: string;
}

// --- core endpoints ----------------------------------------------------------------------------------

export const auth = {
  signIn: (key: string) => request<Session>("POST", "/api/auth/session", { key }, { quiet401: true }),
  me: () => get<Session>("/api/auth/session", { quiet401: true }),
  signOut: () => request<{ message: string }>("DELETE", "/api/auth/session"),
};

export const me = {
  keys: (page: number, pageSize = 20) => get<Page<AccessKey>>(`/api/me/keys${qs({ page, pageSize })}`),
  createKey: (body: { name: string; expiresAt?: string | null }) => request<AccessKey>("POST", "/api/me/keys", body),
  revokeKey: (id: number) => request<AccessKey>("DELETE", `/api/me/keys/${id}`),
};

export const admin = {
  providers: () => get<Provider[]>("/api/ai-providers"),
  availableProviders: () => get<AvailableProvider[]>("/api/ai-providers/available"),
  createProvider: (body: Partial<Provider> & { name: string }) => request<Provider>("POST", "/api/ai-providers", body),
  updateProvider: (id: number, body: Partial<Provider>) => request<Provider>("PUT", `/api/ai-providers/${id}`, body),
  deleteProvider: (id: number) => request<unknown>("DELETE", `/api/ai-providers/${id}`),
  createCompatible: (body: {
    kind: "openai_compatible";
    name: string;
    baseUrl: string;
    displayName?: string;
    apiKey?: string;
    models?: string[];
    verify?: boolean;
  }) => request<Provider & { discoveredModels: string[] }>("POST", "/api/ai-providers", body),
  discoverModels: (body: { baseUrl: string; apiKey?: string }) =>
    request<{ baseUrl: string; models: string[] }>("POST", "/api/ai-providers/discover", body),
  addCredential: (
    providerId: number,
    body: { name?: string; value: Record<string, string> | string; weight?: number; credentialType?: string; verify?: boolean; testModel?: string },
  ) =>
    request<Credential>("POST", `/api/ai-providers/${providerId}/credentials`, body),
  updateCredential: (providerId: number, id: number, body: Record<string, unknown>) =>
    request<Credential>("PUT", `/api/ai-providers/${providerId}/credentials/${id}`, body),
  deleteCredential: (providerId: number, id: number) => request<unknown>("DELETE", `/api/ai-providers/${providerId}/credentials/${id}`),
  testCredential: (providerId: number, value: Record<string, string> | string) =>
    request<CredentialCheck>("POST", `/api/ai-providers/${providerId}/credentials/test`, { value }),
  checkCredential: (providerId: number, id: number) =>
    get<CredentialCheck>(`/api/ai-providers/${providerId}/credentials/${id}/check`),
  modelStatus: () => get<ModelAvailability[]>("/api/ai-providers/status"),
  plugins: () => get<PluginInfo[]>("/api/admin/plugins"),
  pluginConfig: (name: string) => get<PluginConfig>(`/api/admin/plugins/${encodeURIComponent(name)}/config`),
  setPluginConfig: (name: string, values: Record<string, unknown>) =>
    request<PluginConfig>("PUT", `/api/admin/plugins/${encodeURIComponent(name)}/config`, values),
  setPlugin: (name: string, enabled: boolean) => request<PluginInfo>("PUT", `/api/admin/plugins/${encodeURIComponent(name)}`, { enabled }),
  users: (page: number, q = "", pageSize = 20) => get<Page<User>>(`/api/admin/users${qs({ page, pageSize, q })}`),
  createUser: (body: { name: string; role: Role; email?: string }) => request<User>("POST", "/api/admin/users", body),
  updateUser: (id: number, body: Partial<User>) => request<User>("PUT", `/api/admin/users/${id}`, body),
  keys: (page: number, params: { userId?: number; q?: string } = {}, pageSize = 20) =>
    get<Page<AccessKey>>(`/api/admin/keys${qs({ page, pageSize, ...params })}`),
  createKey: (body: { name: string; userId?: number; role?: Role; expiresAt?: string | null; createUser?: boolean }) =>
    request<AccessKey>("POST", "/api/admin/keys", body),
  revokeKey: (id: number) => request<AccessKey>("DELETE", `/api/admin/keys/${id}`),
};

export const openai = {
  models: () => get<{ data: ModelEntry[] }>("/v1/models"),
};

