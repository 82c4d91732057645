// The audit log of admin changes (GET /api/admin/audit): who changed what and when, filtered by actor, kind
// of action and time, newest first; a row opens the fields that changed, before and after (secrets arrive
// masked from the server).
import { Fragment, useState } from "react";
import { get, qs, type Page } from "../api";
import { useI18n } from "../i18n";
import { PagedList, usePaged } from "../components/paged";
import { Badge, SearchInput, Table } from "../components/ui";

export interface AuditEntry {
  id: number;
  createdAt: string;
  actor: { kind: "user" | "cli" | "system"; userId: number | null; name: string | null; keyId: number | null };
  action: string;
  targetType: string;
  targetId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}

const PAGE = 20;
const AREAS = ["provider.", "credential.", "user.", "key.", "plugin.", "rate.", "billing.", "credits."];

const auditLog = (page: number, filters: Record<string, string>, pageSize = PAGE) =>
  get<Page<AuditEntry>>(`/api/admin/audit${qs({ page, pageSize, ...filters })}`);

/** Flatten a record to dotted paths ("config.models") so nested changes show one line each. */
function flatten(value: unknown, prefix = "", out: Map<string, string> = new Map()): Map<string, string> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out.set(prefix, "{}");
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value === null || value === undefined ? "–" : typeof value === "string" ? value : JSON.stringify(value));
  }
  return out;
}

/** The fields of an entry with their values before and after; `changed` marks the ones that differ. */
export function diffRows(before: unknown, after: unknown): { field: string; before?: string; after?: string; changed: boolean }[] {
  const a = flatten(before);
  const b = flatten(after);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields.map((field) => ({ field, before: a.get(field), after: b.get(field), changed: a.get(field) !== b.get(field) }));
}

function Diff({ entry }: { entry: AuditEntry }) {
  const { t } = useI18n();
  const [all, setAll] = useState(false);
  const rows = diffRows(entry.before, entry.after);
  const shown = all ? rows : rows.filter((r) => r.changed);
  return (
    <div className="audit-diff" data-testid="audit-diff">
      <Table compact columns={[t("Field"), t("Before"), t("After")]} caption={t("Changes")}>
        {shown.map((r) => (
          <tr key={r.field} data-field={r.field}>
            <td>
              <code>{r.field}</code>
            </td>
            <td style={r.changed && r.before !== undefined ? { background: "var(--bad-soft)", color: "var(--text)" } : undefined}>
              {r.before ?? "–"}
            </td>
            <td style={r.changed && r.after !== undefined ? { background: "var(--ok-soft)", color: "var(--text)" } : undefined}>
              {r.after ?? "–"}
            </td>
          </tr>
        ))}
      </Table>
      {rows.length > shown.length || all ? (
        <button type="button" className="btn small" onClick={() => setAll(!all)}>
          {all ? t("Only the changed fields") : t("All fields")}
        </button>
      ) : null}
      {entry.requestId && <div className="muted small">{t("Request id")}: <code>{entry.requestId}</code></div>}
    </div>
  );
}

function actorText(entry: AuditEntry, t: (s: string) => string): string {
  if (entry.actor.kind === "cli") return t("Command line");
  if (entry.actor.kind === "system") return t("System");
  const key = entry.actor.keyId ? ` · ${t("key")} #${entry.actor.keyId}` : "";
  return `${entry.actor.name ?? "?"} (#${entry.actor.userId})${key}`;
}

export function AuditLogPage() {
  const { t } = useI18n();
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const filters: Record<string, string> = {};
  if (actor.trim()) filters.actor = actor.trim();
  if (action) filters.action = action;
  // the date inputs are local days: from the start of `from` to the end of `to`
  if (from) filters.from = new Date(`${from}T00:00:00`).toISOString();
  if (to) filters.to = new Date(new Date(`${to}T00:00:00`).getTime() + 86_400_000).toISOString();
  const paged = usePaged((page, size) => auditLog(page, filters, size), [actor, action, from, to], PAGE);

  return (
    <section>
      <h1>{t("Audit log")}</h1>
      <p className="muted">{t("Every change made through the admin API, the console or the command line: who, what, when, and the record before and after. Secrets are never stored.")}</p>
      <div className="row gap wrap" role="search">
        <SearchInput label={t("Actor (name, user id or cli)")} value={actor} onSearch={paged.filter(setActor)} />
        <select aria-label={t("Action")} value={action} onChange={(e) => paged.filter(setAction)(e.target.value)}>
          <option value="">{t("All actions")}</option>
          {AREAS.map((a) => (
            <option key={a} value={a}>
              {a.slice(0, -1)}
            </option>
          ))}
        </select>
        <label className="row gap small">
          {t("From")}
          <input type="date" value={from} onChange={(e) => paged.filter(setFrom)(e.target.value)} />
        </label>
        <label className="row gap small">
          {t("To")}
          <input type="date" value={to} onChange={(e) => paged.filter(setTo)(e.target.value)} />
        </label>
      </div>
      <PagedList paged={paged} empty={<p className="muted">{t("No changes recorded yet.")}</p>}>
        {(list) => (
          <Table columns={[t("Time"), t("Actor"), t("Action"), t("Target")]} actions testId="audit-log">
            {list.map((e) => (
              <Fragment key={e.id}>
                <tr data-action={e.action} data-target={`${e.targetType}:${e.targetId ?? ""}`}>
                  <td className="small">{new Date(e.createdAt).toLocaleString()}</td>
                  <td>{actorText(e, t)}</td>
                  <td>
                    <Badge tone={e.action.endsWith(".delete") || e.action.endsWith(".revoke") ? "bad" : "muted"}>{e.action}</Badge>
                  </td>
                  <td>
                    {e.targetType} <code>{e.targetId ?? ""}</code>
                  </td>
                  <td>
                    <button type="button" className="btn small" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                      {open === e.id ? t("Hide changes") : t("Show changes")}
                    </button>
                  </td>
                </tr>
                {open === e.id && (
                  <tr>
                    <td colSpan={5}>
                      <Diff entry={e} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </Table>
        )}
      </PagedList>
    </section>
  );
}
