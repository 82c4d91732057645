// Endpoints of billing, model rates and usage analytics (hub_core/api/billing.py, hub_core/api/usage.py,
// the billing-credits plugin) and the public model list (hub_core/api/aigne_catalog.py). Plugin routes answer
// 404 while their plugin is missing or disabled; pages then show "not available" (see `isNotAvailable`).
import { get, qs, raw, request, type Page } from "./api";

export interface ModelRate {
  id: number;
  provider: string;
  model: string;
  kind: string;
  type: string;
  modelDisplay?: string | null;
  description?: string | null;
  inputRate: string | null;
  outputRate: string | null;
  unitCosts?: { input?: string | null; output?: string | null } | null;
  caching?: { readRate?: string | null; writeRate?: string | null } | null;
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

export interface UsageMetrics {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  reasoningTokens?: number;
  numberOfImageGeneration?: number;
  seconds?: number;
}

export interface ModelCall {
  id: number;
  requestId?: string;
  callTime?: number;
  createdAt?: string;
  userId?: number | null;
  userName?: string | null;
  keyId?: number | null;
  keyName?: string | null;
  appDid?: string | null;
  endpoint?: string;
  upstreamModel?: string | null;
  httpStatus?: number | null;
  /** the prompt tokens charged when the stream ended before the provider reported usage */
  billedInputTokens?: number | null;
  /** providers tried before the one that answered */
  failover?: { provider: string; model: string; status: number; code: string }[];
  type?: string;
  model: string;
  provider?: string | null;
  stream?: boolean;
  status: string;
  errorReason?: string | null;
  usageMetrics?: UsageMetrics;
  totalUsage?: number;
  credits?: string;
  duration?: number;
  durationMs?: number;
  ttfb?: number | null;
}

export interface Stats {
  calls: number;
  successCalls: number;
  failedCalls?: number;
  abortedCalls?: number;
  successRate: number; // percent
  avgDuration: number; // seconds
  avgTtfb?: number; // ms
  totalCredits: number;
  inputTokens: number;
  outputTokens: number;
  totalUsage: number;
  images?: number;
}

export interface TrendPoint extends Stats {
  timestamp: number; // unix seconds, start of the hour or local day
}

export interface Quota {
  enableCredit?: boolean;
  total?: string | null;
  remaining?: string | null;
  used?: string | null;
  pendingCredit?: string | null;
  dailyAvgCredits?: number | string | null;
  estimatedDaysRemaining?: number | null;
  creditPrefix?: string;
  currency?: string | null;
  usedLast30Days?: string;
}

export interface TopModel {
  provider: string | null;
  model: string;
  totalCalls: number;
  totalCredits?: number;
  totalUsage?: number;
}

export interface Project {
  appDid: string | null;
  appName?: string | null;
  totalCalls: number;
  totalCredits: number;
  totalUsage?: number;
  avgDuration?: number;
  successRate: number;
  lastCallTime: number;
}

export interface CreditAccount {
  userId: number;
  userName: string | null;
  userDid?: string | null;
  balance: string;
  ledgerBalance?: string;
  pendingCredit: string;
  total: string;
  used: string;
  updatedAt?: string | null;
}

export interface LedgerEntry {
  id: number;
  userId: number;
  kind: string;
  amount: string;
  balanceAfter: string;
  reason: string | null;
  actorUserId?: number | null;
  requestId?: string | null;
  createdAt: string | null;
}

export interface BillingMode {
  name: string;
  displayName: string;
  description?: string;
  charges: boolean;
  settingsSchema?: { properties?: Record<string, { type?: string; title?: string; enum?: string[] }> };
  settings?: Record<string, unknown>;
  plugin: string;
  pluginEnabled: boolean;
}

export interface BillingConfig {
  active: string;
  modes: BillingMode[];
  rates: number;
}

/** `GET /api/user/credit/purchase`: what the buy-credits page shows (billing-credits plugin). */
export interface PurchaseInfo {
  active: boolean;
  balance: { balance: string; pendingCredit: string; used: string; total: string; creditPrefix?: string; currency?: string | null };
  contact: string;
  welcome: { amount: string | null; expiresInDays: number | null };
  /** one per way to pay: the admin's payment link ("link") and each payment plugin's checkout link */
  options: { name: string; displayName: string; link: string | null }[];
}

/** One group of `GET /api/usage/breakdown`: a model ("provider/model"), user, key or project. */
export interface BreakdownRow {
  id: string | number | null;
  name: string | null;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  totalCredits: number;
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
  requestId?: string;
  providerId?: string;
  userId?: string;
  keyId?: string;
}

type Range = { startTime: number; endTime: number; allUsers?: boolean; appDid?: string; timezoneOffset?: number };

/** One model the enabled providers serve, and whether it has a rate (`GET /api/ai-providers/model-rates/catalog`). */
export interface ServedModel {
  provider: string;
  providerDisplayName: string;
  model: string;
  kind: string;
  type: string;
  rated: boolean;
  rateId: number | null;
}

export const billing = {
  rateCatalog: () => request<{ count: number; unrated: number; list: ServedModel[] }>("GET", "/api/ai-providers/model-rates/catalog"),
  publicModels: (type?: string) => get<PublicModel[]>(`/api/ai-providers/models${qs({ type })}`),

  config: () => get<BillingConfig>("/api/admin/billing"),
  setConfig: (body: { mode?: string; settings?: Record<string, unknown> }) => request<BillingConfig>("PUT", "/api/admin/billing", body),

  rates: (params: { page: number; pageSize: number; provider?: string; model?: string }) =>
    get<Page<ModelRate>>(`/api/ai-providers/model-rates${qs(params)}`),
  /** The same rate for several providers at once. */
  createRates: (providers: string[], body: Record<string, unknown>) =>
    request<{ list: ModelRate[] }>("POST", "/api/ai-providers/model-rates", { ...body, providers }),
  updateRate: (id: number, body: Record<string, unknown>) => request<ModelRate>("PUT", `/api/ai-providers/model-rates/${id}`, body),
  deleteRate: (id: number) => request<unknown>("DELETE", `/api/ai-providers/model-rates/${id}`),
  bulkReprice: (body: { profitMargin: number; creditPrice: number }) =>
    request<{ updated: number; list: ModelRate[] }>("POST", "/api/ai-providers/bulk-rate-update", body),

  quota: () => get<Quota>("/api/usage/quota"),
  purchase: () => get<PurchaseInfo>("/api/user/credit/purchase"),
  myLedger: (page: number) => get<Page<LedgerEntry>>(`/api/user/credit/transactions${qs({ page, pageSize: 10 })}`),
  accounts: (params: { page: number; pageSize: number; q?: string }) => get<Page<CreditAccount>>(`/api/admin/credits/accounts${qs(params)}`),
  ledger: (userId: number, page: number) => get<Page<LedgerEntry>>(`/api/admin/credits/accounts/${userId}/ledger${qs({ page, pageSize: 20 })}`),
  grant: (body: { userId: number; amount: string; reason?: string; expiresAt?: string | null }) =>
    request<LedgerEntry>("POST", "/api/admin/credits/grants", body),

  summary: (r: Range) => get<Stats>(`/api/usage/summary${qs(r)}`),
  trends: (r: Range) => get<{ trends: TrendPoint[]; granularity: string }>(`/api/usage/trends${qs(r)}`),
  breakdown: (r: Range & { by: string }) => get<{ by: string; list: BreakdownRow[] }>(`/api/usage/breakdown${qs(r)}`).then((b) => b.list),
  topModels: (r: Range) => get<{ modelStats: { list: TopModel[] } }>(`/api/usage/models${qs({ ...r, limit: 5 })}`),
  projects: (r: Range & { page: number; pageSize: number }) =>
    get<{ projects: Project[]; total: number; page: number; pageSize: number }>(`/api/usage/projects${qs(r)}`),
  calls: (f: CallFilters) => get<Page<ModelCall>>(`/api/usage/calls${qs({ ...f })}`),
  exportCsv: (f: Omit<CallFilters, "page" | "pageSize">, locale: string) =>
    raw("GET", `/api/usage/calls/export${qs({ ...f, locale })}`, undefined, { headers: { Accept: "text/csv" } }),
};
