// Endpoints owned by the AIGNE API and the billing/analytics plugins. They follow the original hub's paths
// (reference section 1.4/1.5); while an endpoint is missing or its plugin is disabled it answers 404 and
// the page shows "not available" (see `isNotAvailable`). Shapes are read defensively for the same reason.
import { get, qs, raw, request, url, type Page } from "./api";

export interface ModelRate {
  id: number | string;
  providerId?: number;
  provider?: string | { id: number; name: string; displayName?: string };
  model: string;
  kind?: string;
  modelDisplay?: string | null;
  type: string;
  inputRate: string | number;
  outputRate: string | number;
  unitCosts?: { input?: string | number | null; output?: string | number | null } | null;
  caching?: { readRate?: string | number | null; writeRate?: string | number | null } | null;
  deprecated?: boolean;
  status?: { available?: boolean; error?: string | null } | null;
}

export interface PublicModel {
  key: string;
  model: string;
  type: string;
  provider: string;
  providerDisplayName?: string;
  input_credits_per_token: string;
  output_credits_per_token: string;
  status?: { available?: boolean } | null;
}

export interface ModelCall {
  id: number | string;
  createdAt?: string;
  callTime?: number;
  model: string;
  provider?: string | null;
  type?: string;
  kind?: string;
  status: string;
  inputTokens?: number;
  outputTokens?: number;
  totalUsage?: number;
  credits?: number | string;
  duration?: number;
  durationMs?: number;
  appDid?: string | null;
  userDid?: string | null;
  userId?: number | null;
  errorReason?: string | null;
  error?: string | null;
}

export interface TrendPoint {
  timestamp: number | string;
  calls?: number;
  successCalls?: number;
  successRate?: number;
  avgDuration?: number;
  totalCredits?: number;
  credits?: number;
  totalTokens?: number;
  tokens?: number;
}

export interface Quota {
  total?: number | string;
  remaining?: number | string;
  used?: number | string;
  estimatedDaysRemaining?: number;
  dailyAverage?: number | string;
}

export interface CallFilters {
  page: number;
  pageSize: number;
  startTime?: number;
  endTime?: number;
  model?: string;
  status?: string;
  appDid?: string;
  search?: string;
  allUsers?: boolean;
}

export const billing = {
  publicModels: (type?: string) => get<PublicModel[]>(`/api/ai-providers/models${qs({ type })}`),
  rates: (params: { page: number; pageSize: number; provider?: string; model?: string; includeDeprecated?: boolean }) =>
    get<Page<ModelRate>>(`/api/ai-providers/model-rates${qs(params)}`),
  /** One rate for several providers at once. */
  createRates: (providers: string[], body: Record<string, unknown>) =>
    request<unknown>("POST", "/api/ai-providers/model-rates", { ...body, providers }),
  updateRate: (id: number | string, body: Record<string, unknown>) =>
    request<ModelRate>("PUT", `/api/ai-providers/model-rates/${id}`, body),
  deleteRate: (id: number | string) => request<unknown>("DELETE", `/api/ai-providers/model-rates/${id}`),
  bulkReprice: (body: { profitMargin: number; creditPrice: number }) =>
    request<unknown>("POST", "/api/ai-providers/bulk-rate-update", { mode: "margin", ...body }),

  userInfo: () => get<Record<string, unknown>>("/api/user/info"),
  quota: () => get<Quota>("/api/usage/quota"),
  accounts: (params: { page: number; pageSize: number; q?: string }) =>
    get<Page<Record<string, unknown>>>(`/api/admin/credits/accounts${qs(params)}`),
  ledger: (userId: number, page: number) =>
    get<Page<Record<string, unknown>>>(`/api/admin/credits/ledger${qs({ userId, page, pageSize: 20 })}`),
  grant: (body: { userId: number; amount: string; reason?: string; expiresAt?: string | null }) =>
    request<unknown>("POST", "/api/admin/credits/grants", body),

  trends: (params: { startTime: number; endTime: number; allUsers?: boolean; timezoneOffset?: number; appDid?: string }) =>
    get<{ trends: TrendPoint[] } | TrendPoint[]>(`/api/usage/trends${qs(params)}`),
  modelStats: (params: { startTime: number; endTime: number; allUsers?: boolean }) =>
    get<unknown>(`/api/user/usage-stats${qs(params)}`),
  projects: (params: { page: number; pageSize: number; startTime: number; endTime: number; allUsers?: boolean }) =>
    get<Page<Record<string, unknown>>>(`/api/usage/projects${qs(params)}`),
  calls: (f: CallFilters) => get<Page<ModelCall>>(`/api/user/model-calls${qs({ ...f })}`),
  exportUrl: (f: Omit<CallFilters, "page" | "pageSize">, locale: string) =>
    url(`/api/user/model-calls/export${qs({ ...f, locale })}`),
  exportCsv: (f: Omit<CallFilters, "page" | "pageSize">, locale: string) =>
    raw("GET", `/api/user/model-calls/export${qs({ ...f, locale })}`, undefined, { headers: { Accept: "text/csv" } }),
};
