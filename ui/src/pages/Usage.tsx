// Usage analytics over a chosen range: totals, trend charts, top models, projects (calling apps) and the
// call history (filters, search, server-side pagination, CSV export). Admins see everyone ("all"), every
// user sees their own ("mine"); `appDid` narrows everything to one project.
import { useMemo, useState } from "react";
import { billing, type CallFilters, type ModelCall, type TrendPoint } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { BarList, LineChart, type Point } from "../components/charts";
import { AsyncView, Badge, Empty, InlineError, Pager, errorMessage, useAsync } from "../components/ui";
import { Stat } from "./Account";

const RANGES: [string, number][] = [
  ["24h", 1],
  ["7d", 7],
  ["30d", 30],
  ["90d", 90],
];
const PAGE = 20;

function rangeOf(days: number): { startTime: number; endTime: number } {
  const endTime = Math.floor(Date.now() / 1000);
  return { startTime: endTime - days * 86400, endTime };
}

export function trendList(data: unknown): TrendPoint[] {
  if (Array.isArray(data)) return data as TrendPoint[];
  const d = data as { trends?: TrendPoint[]; list?: TrendPoint[]; data?: TrendPoint[] } | null;
  return d?.trends ?? d?.list ?? d?.data ?? [];
}

function bucketLabel(ts: number | string, days: number): string {
  const d = typeof ts === "number" ? new Date(ts < 1e12 ? ts * 1000 : ts) : new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  return days <= 1 ? `${String(d.getHours()).padStart(2, "0")}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
}

const num = (v: unknown) => (v === null || v === undefined || v === "" ? 0 : Number(v));

export function UsagePage({ scope, appDid }: { scope: "all" | "mine"; appDid?: string }) {
  const { t } = useI18n();
  const [days, setDays] = useState(7);
  const range = useMemo(() => rangeOf(days), [days]);
  const allUsers = scope === "all" ? true : undefined;
  const base = scope === "all" ? "/console/usage" : "/account/usage";
  const tz = new Date().getTimezoneOffset();
  const trends = useAsync(() => billing.trends({ ...range, allUsers, appDid, timezoneOffset: tz }), [range, allUsers, appDid]);
  return (
    <section>
      <div className="section-head">
        <h1>
          {appDid ? t("Project {app}", { app: appDid }) : scope === "all" ? t("Usage analytics") : t("My usage")}
        </h1>
        <div role="group" aria-label={t("Time range")} className="tabs">
          {RANGES.map(([label, d]) => (
            <button key={label} type="button" aria-pressed={days === d} className={days === d ? "active" : ""} onClick={() => setDays(d)}>
              {t(label)}
            </button>
          ))}
        </div>
      </div>
      {appDid && (
        <p>
          <Link to={base}>← {t("All projects")}</Link>
        </p>
      )}
      <AsyncView state={trends} feature={t("Usage analytics")}>
        {(data) => {
          const list = trendList(data);
          const calls = list.reduce((s, p) => s + num(p.calls), 0);
          const ok = list.reduce((s, p) => s + num(p.successCalls ?? (p.successRate !== undefined ? num(p.successRate) * num(p.calls) / (num(p.successRate) > 1 ? 100 : 1) : p.calls)), 0);
          const tokens = list.reduce((s, p) => s + num(p.totalTokens ?? p.tokens), 0);
          const credits = list.reduce((s, p) => s + num(p.totalCredits ?? p.credits), 0);
          const pts = (f: (p: TrendPoint) => number): Point[] => list.map((p) => ({ label: bucketLabel(p.timestamp, days), value: f(p) }));
          return (
            <>
              <div className="stats">
                <Stat label={t("Calls")} value={formatNumber(calls)} />
                <Stat label={t("Success rate")} value={calls ? `${formatNumber((ok / calls) * 100, 1)}%` : "–"} />
                <Stat label={t("Tokens")} value={formatNumber(tokens)} />
                <Stat label={t("Credits")} value={formatNumber(credits, 4)} />
              </div>
              <div className="charts">
                <LineChart title={t("Calls")} points={pts((p) => num(p.calls))} />
                <LineChart title={t("Tokens")} points={pts((p) => num(p.totalTokens ?? p.tokens))} />
              </div>
            </>
          );
        }}
      </AsyncView>
      {!appDid && <TopModels range={range} allUsers={allUsers} />}
      {!appDid && <Projects range={range} allUsers={allUsers} base={base} />}
      <CallHistory range={range} allUsers={allUsers} appDid={appDid} />
    </section>
  );
}

function TopModels({ range, allUsers }: { range: { startTime: number; endTime: number }; allUsers?: boolean }) {
  const { t } = useI18n();
  const stats = useAsync(() => billing.modelStats({ ...range, allUsers }), [range, allUsers]);
  if (stats.error || !stats.data) return null; // the trends block already reports "not available"
  const raw = stats.data as { modelStats?: unknown[]; topModels?: unknown[]; list?: unknown[] } | unknown[];
  const rows = (Array.isArray(raw) ? raw : (raw.topModels ?? raw.modelStats ?? raw.list ?? [])) as Record<string, unknown>[];
  const items: Point[] = rows
    .map((r) => ({ label: String(r.model ?? r.key ?? "?"), value: num(r.calls ?? r.totalCalls ?? r.count) }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 5);
  if (!items.length) return null;
  return <BarList title={t("Top models by calls")} items={items} />;
}

function Projects({ range, allUsers, base }: { range: { startTime: number; endTime: number }; allUsers?: boolean; base: string }) {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const state = useAsync(() => billing.projects({ ...range, allUsers, page, pageSize: 10 }), [range, allUsers, page]);
  if (state.error) return null;
  return (
    <>
      <h2>{t("Projects")}</h2>
      <AsyncView state={state}>
        {(p) =>
          !p.list.length ? (
            <Empty>{t("No calls in this range.")}</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th>{t("Project (calling app)")}</th>
                      <th className="num">{t("Calls")}</th>
                      <th className="num">{t("Credits")}</th>
                      <th className="num">{t("Success rate")}</th>
                      <th>{t("Last call")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.list.map((r) => {
                      const app = String(r.appDid ?? r.app_did ?? "");
                      const rate = num(r.successRate);
                      return (
                        <tr key={app || "none"}>
                          <td>{app ? <Link to={`${base}/projects/${encodeURIComponent(app)}`}>{String(r.appName ?? app)}</Link> : t("(no app)")}</td>
                          <td className="num">{formatNumber(num(r.totalCalls ?? r.calls))}</td>
                          <td className="num">{formatNumber(num(r.totalCredits ?? r.credits), 4)}</td>
                          <td className="num">{formatNumber(rate > 1 ? rate : rate * 100, 1)}%</td>
                          <td>{formatDate((r.lastCallTime ?? r.lastCall ?? null) as string | null)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <Pager page={page} pageSize={10} count={p.count} onPage={setPage} />
            </>
          )
        }
      </AsyncView>
    </>
  );
}

function CallHistory({ range, allUsers, appDid }: { range: { startTime: number; endTime: number }; allUsers?: boolean; appDid?: string }) {
  const { t, lang } = useI18n();
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [model, setModel] = useState("");
  const [exportError, setExportError] = useState<unknown>(null);
  const filters: Omit<CallFilters, "page" | "pageSize"> = { ...range, allUsers, appDid, search: search.trim(), status, model: model.trim() };
  const state = useAsync(() => billing.calls({ ...filters, page, pageSize: PAGE }), [range, allUsers, appDid, search, status, model, page]);
  const reset = () => setPage(1);
  if (state.error && (state.error as { status?: number }).status === 404) return null;
  return (
    <>
      <div className="section-head">
        <h2>{t("Call history")}</h2>
        <button
          type="button"
          className="btn small"
          onClick={async () => {
            setExportError(null);
            try {
              const resp = await billing.exportCsv(filters, lang);
              const blob = await resp.blob();
              const a = document.createElement("a");
              a.href = URL.createObjectURL(blob);
              a.download = `aigne-hub-calls-${new Date().toISOString().slice(0, 10)}.csv`;
              a.click();
              setTimeout(() => URL.revokeObjectURL(a.href), 1000);
            } catch (e) {
              setExportError(errorMessage(e));
            }
          }}
        >
          {t("Export CSV")}
        </button>
      </div>
      <InlineError error={exportError} />
      <div className="row gap wrap filters">
        <input type="search" aria-label={t("Search calls")} placeholder={t("Search calls")} value={search} onChange={(e) => { setSearch(e.target.value); reset(); }} />
        <input aria-label={t("Model")} placeholder={t("Model")} value={model} onChange={(e) => { setModel(e.target.value); reset(); }} />
        <select aria-label={t("Status")} value={status} onChange={(e) => { setStatus(e.target.value); reset(); }}>
          <option value="">{t("All statuses")}</option>
          <option value="success">{t("success")}</option>
          <option value="error">{t("error")}</option>
          <option value="aborted">{t("aborted")}</option>
        </select>
      </div>
      <AsyncView state={state}>
        {(p) =>
          !p.list.length ? (
            <Empty>{t("No calls match.")}</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="table" data-testid="call-history">
                  <thead>
                    <tr>
                      <th>{t("Time")}</th>
                      <th>{t("Model")}</th>
                      <th>{t("Type")}</th>
                      <th>{t("Status")}</th>
                      <th className="num">{t("Tokens in / out")}</th>
                      <th className="num">{t("Credits")}</th>
                      <th className="num">{t("Duration")}</th>
                      <th>{t("Project")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.list.map((c: ModelCall) => (
                      <tr key={String(c.id)}>
                        <td>{formatDate(c.createdAt ?? c.callTime ?? null)}</td>
                        <td>
                          <code>{c.provider && !c.model.includes("/") ? `${c.provider}/${c.model}` : c.model}</code>
                        </td>
                        <td>{t(String(c.type ?? c.kind ?? ""))}</td>
                        <td>
                          <Badge tone={c.status === "success" ? "ok" : c.status === "aborted" ? "warn" : "bad"}>{t(c.status)}</Badge>
                          {(c.errorReason ?? c.error) && <div className="error-text small">{c.errorReason ?? c.error}</div>}
                        </td>
                        <td className="num">
                          {formatNumber(num(c.inputTokens))} / {formatNumber(num(c.outputTokens))}
                        </td>
                        <td className="num">{formatNumber(num(c.credits), 4)}</td>
                        <td className="num">{c.durationMs !== undefined ? `${formatNumber(c.durationMs)} ms` : `${formatNumber(num(c.duration), 1)} s`}</td>
                        <td className="small">{c.appDid ?? "–"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager page={page} pageSize={PAGE} count={p.count} onPage={setPage} />
            </>
          )
        }
      </AsyncView>
    </>
  );
}
