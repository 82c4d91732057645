// "Cost by": credits, calls and tokens per model, user, access key or project over the page's range
// (`GET /api/usage/breakdown`), as bars and a table, exportable as CSV (made in the browser from the table).
import { useState } from "react";
import { billing, type BreakdownRow } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { BarList } from "./charts";
import { AsyncView, Empty, Table, useAsync } from "./ui";

type By = "model" | "user" | "key" | "project";

export function CostBreakdown({ range, allUsers }: { range: { startTime: number; endTime: number }; allUsers?: boolean }) {
  const { t } = useI18n();
  const [by, setBy] = useState<By>("model");
  const rows = useAsync(() => billing.breakdown({ ...range, allUsers, by }), [range, allUsers, by]);
  const tabs: [By, string][] = [
    ["model", t("Model")],
    ...(allUsers ? ([["user", t("User")]] as [By, string][]) : []),
    ["key", t("Key")],
    ["project", t("Project")],
  ];
  const label = (r: BreakdownRow) => r.name ?? (r.id == null ? t("(none)") : `#${r.id}`);
  return (
    <section className="breakdown" data-testid="cost-breakdown">
      <div className="section-head">
        <h2>{t("Cost by")}</h2>
        <div className="row gap wrap">
          <div role="tablist" aria-label={t("Cost by")} className="tabs">
            {tabs.map(([id, name]) => (
              <button key={id} type="button" role="tab" aria-selected={by === id} className={by === id ? "active" : ""} onClick={() => setBy(id)}>
                {name}
              </button>
            ))}
          </div>
          <button type="button" className="btn small" disabled={!rows.data?.length} onClick={() => download(by, rows.data ?? [], label)}>
            {t("Export table (CSV)")}
          </button>
        </div>
      </div>
      <AsyncView state={rows}>
        {(list) =>
          !list.length ? (
            <Empty>{t("No calls in this range.")}</Empty>
          ) : (
            <div className="breakdown-body">
              <BarList title={t("Credits")} items={list.map((r) => ({ label: label(r), value: r.totalCredits }))} />
              <Table
                caption={t("Cost by")}
                columns={[
                  tabs.find(([id]) => id === by)![1],
                  { label: t("Calls"), num: true },
                  { label: t("Input tokens"), num: true },
                  { label: t("Output tokens"), num: true },
                  { label: t("Credits"), num: true },
                ]}
              >
                {list.map((r) => (
                  <tr key={String(r.id)} data-row={label(r)}>
                    <td>{label(r)}</td>
                    <td className="num">{formatNumber(r.calls)}</td>
                    <td className="num">{formatNumber(r.inputTokens)}</td>
                    <td className="num">{formatNumber(r.outputTokens)}</td>
                    <td className="num">{formatNumber(r.totalCredits, 6)}</td>
                  </tr>
                ))}
              </Table>
            </div>
          )
        }
      </AsyncView>
    </section>
  );
}

function download(by: By, rows: BreakdownRow[], label: (r: BreakdownRow) => string): void {
  const quote = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [[by, "calls", "input tokens", "output tokens", "credits"].join(",")];
  for (const r of rows) lines.push([label(r), r.calls, r.inputTokens, r.outputTokens, r.totalCredits].map(quote).join(","));
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([`${lines.join("\n")}\n`], { type: "text/csv" }));
  a.download = `aigne-hub-cost-by-${by}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
