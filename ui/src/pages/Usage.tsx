// Usage analytics over a chosen range: totals, trend charts, top models, projects (calling apps) and the
// call history (filters, search, server-side pagination, CSV export). Admins see everyone ("all"), every
// user sees their own ("mine"); `appDid` narrows everything to one project.
import { useMemo, useState } from "react";
import { billing, type CallFilters, type ModelCall, type Stats, type TrendPoint } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { BarList, LineChart, type Point } from "../components/charts";
import { PagedList, usePaged } from "../components/paged";
import { AsyncView, Badge, Empty, InlineError, SearchInput, SectionHead, Table, errorMessage, useAsync } from "../components/ui";
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

function bucketLabel(ts: number, granularity: string): string {
  const d = new Date(ts * 1000);
  if (Number.isNaN(d.getTime())) return String(ts);
  return granularity === "hour" ? `${String(d.getHours()).padStart(2, "0")}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
}

const num = (v: unknown) => (v === null || v === undefined || v === "" ? 0 : Number(v));

export function UsagePage({ scope, appDid }: { scope: "all" | "mine"; appDid?: string }) {
  const { t } = useI18n();
  const [days, setDays] = useState(7);
  const range = useMemo(() => rangeOf(days), [days]);
  const allUsers = scope === "all" ? true : undefined;
  const base = scope === "all" ? "/console/usage" : "/account/usage";
  const tz = new Date().getTimezoneOffset();
  const trends = useAsync(
    async () => {
      const [summary, series] = await Promise.all([
        billing.summary({ ...range, allUsers, appDid, timezoneOffset: tz }),
        billing.trends({ ...range, allUsers, appDid, timezoneOffset: tz }),
      ]);
      return { summary, series };
    },
    [range, allUsers, appDid],
  );
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
        {({ summary, series }) => <Overview summary={summary} points={series.trends} granularity={series.granularity} />}
      </AsyncView>
      {!appDid && <TopModels range={range} allUsers={allUsers} />}
      {!appDid && <Projects range={range} allUsers={allUsers} base={base} />}
      <CallHistory range={range} allUsers={allUsers} appDid={appDid} />
    </section>
  );
}

function Overview({ summary, points, granularity }: { summary: Stats; points: TrendPoint[]; granularity: string }) {
  const { t } = useI18n();
  const pts = (f: (p: TrendPoint) => number | null): Point[] => points.map((p) => ({ label: bucketLabel(p.timestamp, granularity), value: f(p) }));
  return (
    <>
      <div className="stats">
        <Stat label={t("Calls")} value={formatNumber(summary.calls)} />
        <Stat label={t("Success rate")} value={summary.calls ? `${formatNumber(summary.successRate, 1)}%` : "–"} />
        <Stat label={t("Tokens")} value={formatNumber(summary.totalUsage)} />
        <Stat label={t("Credits")} value={formatNumber(summary.totalCredits, 4)} />
        <Stat label={t("Avg. duration")} value={summary.calls ? `${formatNumber(summary.avgDuration, 2)} s` : "–"} />
      </div>
      <div className="charts">
        <LineChart title={t("Calls")} points={pts((p) => p.calls)} />
        <LineChart title={t("Tokens")} points={pts((p) => p.totalUsage)} />
        <LineChart title={t("Success rate (%)")} points={pts((p) => (p.calls ? p.successRate : null))} max={100} />
        <LineChart title={t("Credits")} points={pts((p) => num(p.totalCredits))} />
      </div>
    </>
  );
}

type Range = { startTime: number; endTime: number };

function TopModels({ range, allUsers }: { range: Range; allUsers?: boolean }) {
  const { t } = useI18n();
  const stats = useAsync(() => billing.topModels({ ...range, allUsers }), [range, allUsers]);
  if (stats.error || !stats.data) return null; // the overview already reports errors and "not available"
  const items = stats.data.modelStats.list.map((r) => ({
    label: r.provider ? `${r.provider}/${r.model}` : r.model,
    value: num(r.totalCalls),
  }));
  if (!items.length) return null;
  return <BarList title={t("Top models by calls")} items={items} />;
}

function Projects({ range, allUsers, base }: { range: Range; allUsers?: boolean; base: string }) {
  const { t } = useI18n();
  const projects = usePaged(
    (page, pageSize) => billing.projects({ ...range, allUsers, page, pageSize }).then((p) => ({ list: p.projects, count: p.total })),
    [range, allUsers],
    10,
  );
  if (projects.error) return null;
  return (
    <>
      <h2>{t("Projects")}</h2>
      <PagedList paged={projects} empty={<Empty>{t("No calls in this range.")}</Empty>} pagerWhenEmpty={false}>
        {(list) => (
          <Table
            columns={[
              t("Project (calling app)"),
              { label: t("Calls"), num: true },
              { label: t("Credits"), num: true },
              { label: t("Success rate"), num: true },
              t("Last call"),
            ]}
          >
            {list.map((r) => (
              <tr key={r.appDid ?? "none"}>
                <td>
                  {r.appDid ? <Link to={`${base}/projects/${encodeURIComponent(r.appDid)}`}>{r.appName ?? r.appDid}</Link> : t("(no app)")}
                </td>
                <td className="num">{formatNumber(r.totalCalls)}</td>
                <td className="num">{formatNumber(r.totalCredits, 4)}</td>
                <td className="num">{formatNumber(r.successRate, 1)}%</td>
                <td>{r.lastCallTime ? formatDate(r.lastCallTime) : "–"}</td>
              </tr>
            ))}
          </Table>
        )}
      </PagedList>
    </>
  );
}

function CallHistory({ range, allUsers, appDid }: { range: Range; allUsers?: boolean; appDid?: string }) {
  const { t, lang } = useI18n();
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState("");
  const [model, setModel] = useState("");
  const [exportError, setExportError] = useState<unknown>(null);
  const filters: Omit<CallFilters, "page" | "pageSize"> = { ...range, allUsers, appDid, search: search.trim(), status, model: model.trim() };
  const calls = usePaged((page, pageSize) => billing.calls({ ...filters, page, pageSize }), [range, allUsers, appDid, search, status, model], PAGE);
  if (calls.error && (calls.error as { status?: number }).status === 404) return null;
  return (
    <>
      <SectionHead title={t("Call history")}>
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
      </SectionHead>
      <InlineError error={exportError} />
      <div className="row gap wrap filters">
        <SearchInput label={t("Search calls")} value={search} onSearch={calls.filter(setSearch)} />
        <input aria-label={t("Model")} placeholder={t("Model")} value={model} onChange={(e) => calls.filter(setModel)(e.target.value)} />
        <select aria-label={t("Status")} value={status} onChange={(e) => calls.filter(setStatus)(e.target.value)}>
          <option value="">{t("All statuses")}</option>
          <option value="success">{t("success")}</option>
          <option value="failed">{t("failed")}</option>
          <option value="aborted">{t("aborted")}</option>
        </select>
      </div>
      <PagedList paged={calls} empty={<Empty>{t("No calls match.")}</Empty>} pagerWhenEmpty={false}>
        {(list) => (
          <Table
            testId="call-history"
            columns={[
              t("Time"),
              t("Model"),
              t("Type"),
              t("Status"),
              { label: t("Tokens in / out"), num: true },
              { label: t("Credits"), num: true },
              { label: t("Duration"), num: true },
              t("Project"),
            ]}
          >
            {list.map((c: ModelCall) => (
              <tr key={c.id} data-call={c.requestId}>
                <td>{formatDate(c.createdAt ?? c.callTime ?? null)}</td>
                <td>
                  <code>{c.provider && !c.model.includes("/") ? `${c.provider}/${c.model}` : c.model}</code>
                </td>
                <td>{t(String(c.type ?? ""))}</td>
                <td>
                  <Badge tone={c.status === "success" ? "ok" : c.status === "aborted" ? "warn" : "bad"}>{t(c.status)}</Badge>
                  {c.errorReason && <div className="error-text small">{c.errorReason}</div>}
                </td>
                <td className="num">
                  {formatNumber(num(c.usageMetrics?.inputTokens))} / {formatNumber(num(c.usageMetrics?.outputTokens))}
                </td>
                <td className="num">{formatNumber(num(c.credits), 4)}</td>
                <td className="num">{c.durationMs !== undefined ? `${formatNumber(c.durationMs)} ms` : "–"}</td>
                <td className="small">{c.appDid ?? "–"}</td>
              </tr>
            ))}
          </Table>
        )}
      </PagedList>
    </>
  );
}
