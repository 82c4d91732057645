// Usage analytics over a chosen range: totals, trend charts, top models, projects (calling apps) and the
// call history (filters, search, server-side pagination, CSV export). Admins see everyone ("all"), every
// user sees their own ("mine"); `appDid` narrows everything to one project.
import { useMemo } from "react";
import { billing, type Stats, type TrendPoint } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { BarList, LineChart, type Point } from "../components/charts";
import { CallLog, useQueryState } from "../components/callLog";
import { CostBreakdown } from "../components/costBreakdown";
import { PagedList, usePaged } from "../components/paged";
import { AsyncView, Empty, Table, useAsync } from "../components/ui";
import { Stat } from "./Account";

const RANGES: [string, number][] = [
  ["24h", 1],
  ["7d", 7],
  ["30d", 30],
  ["90d", 90],
];
/** The last `days` days, or a custom range from the start of `from` to the end of `to` (local dates). */
function rangeOf(days: number, from = "", to = ""): { startTime: number; endTime: number } {
  const now = Math.floor(Date.now() / 1000);
  if (from || to) {
    const start = from ? new Date(`${from}T00:00:00`).getTime() / 1000 : now - 30 * 86400;
    const end = to ? new Date(`${to}T23:59:59`).getTime() / 1000 + 1 : now;
    if (Number.isFinite(start) && Number.isFinite(end) && start < end) return { startTime: Math.floor(start), endTime: Math.floor(end) };
  }
  return { startTime: now - days * 86400, endTime: now };
}

function bucketLabel(ts: number, granularity: string): string {
  const d = new Date(ts * 1000);
  if (Number.isNaN(d.getTime())) return String(ts);
  return granularity === "hour" ? `${String(d.getHours()).padStart(2, "0")}:00` : `${d.getMonth() + 1}/${d.getDate()}`;
}

const num = (v: unknown) => (v === null || v === undefined || v === "" ? 0 : Number(v));

export function UsagePage({ scope, appDid }: { scope: "all" | "mine"; appDid?: string }) {
  const { t } = useI18n();
  const [q, setQ] = useQueryState(["range", "from", "to"]);
  const days = RANGES.find(([label]) => label === q.range)?.[1] ?? 7;
  const custom = !!(q.from || q.to);
  const range = useMemo(() => rangeOf(days, q.from, q.to), [days, q.from, q.to]);
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
        <div className="row gap wrap">
          <div role="group" aria-label={t("Time range")} className="tabs">
            {RANGES.map(([label, d]) => (
              <button
                key={label}
                type="button"
                aria-pressed={!custom && days === d}
                className={!custom && days === d ? "active" : ""}
                onClick={() => {
                  setQ("from", "");
                  setQ("to", "");
                  setQ("range", label === "7d" ? "" : label);
                }}
              >
                {t(label)}
              </button>
            ))}
          </div>
          <label className="row gap small">
            {t("From")}
            <input type="date" aria-label={t("From date")} value={q.from} max={q.to || undefined} onChange={(e) => setQ("from", e.target.value)} />
          </label>
          <label className="row gap small">
            {t("To")}
            <input type="date" aria-label={t("To date")} value={q.to} min={q.from || undefined} onChange={(e) => setQ("to", e.target.value)} />
          </label>
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
      {!appDid && <CostBreakdown range={range} allUsers={allUsers} />}
      {!appDid && <Projects range={range} allUsers={allUsers} base={base} />}
      <CallLog range={range} allUsers={allUsers} appDid={appDid} />
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
