// The call log of the usage pages: filters kept in the address (so a filtered view can be reloaded and shared),
// user, key and provider columns, server-side paging, CSV export in the console's language, and a detail
// dialog per call (ids, tokens by kind, credits, latency, error text, failover attempts).
import { useEffect, useState } from "react";
import { admin } from "../api";
import { billing, type CallFilters, type ModelCall } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { PagedList, usePaged } from "./paged";
import { Badge, Empty, InlineError, Modal, SearchInput, SectionHead, Table, errorMessage, useAsync } from "./ui";

const PAGE = 20;
const num = (v: unknown) => (v === null || v === undefined || v === "" ? 0 : Number(v));

/** Filters read from and written to the address's query (replaceState: typing does not add history). */
export function useQueryState(keys: string[]): [Record<string, string>, (k: string, v: string) => void] {
  const [state, setState] = useState<Record<string, string>>(() => {
    const q = new URLSearchParams(window.location.search);
    return Object.fromEntries(keys.map((k) => [k, q.get(k) ?? ""]));
  });
  const set = (k: string, v: string) => {
    setState((s) => ({ ...s, [k]: v }));
    const q = new URLSearchParams(window.location.search);
    if (v) q.set(k, v);
    else q.delete(k);
    const search = q.toString();
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
  };
  return [state, set];
}

type Range = { startTime: number; endTime: number };

export function CallLog({ range, allUsers, appDid }: { range: Range; allUsers?: boolean; appDid?: string }) {
  const { t, lang } = useI18n();
  const [f, setF] = useQueryState(["search", "status", "model", "providerId", "userId", "keyId"]);
  const [exportError, setExportError] = useState<unknown>(null);
  const [open, setOpen] = useState<ModelCall | null>(null);
  const providers = useAsync(() => (allUsers ? admin.providers() : Promise.resolve([])), [allUsers]);
  const filters: Omit<CallFilters, "page" | "pageSize"> = {
    ...range,
    allUsers,
    appDid,
    search: f.search.trim(),
    status: f.status,
    model: f.model.trim(),
    providerId: f.providerId,
    userId: f.userId,
    keyId: f.keyId,
  };
  const calls = usePaged((page, pageSize) => billing.calls({ ...filters, page, pageSize }), [range, allUsers, appDid, JSON.stringify(f)], PAGE);
  const set = (k: string) => calls.filter((v: string) => setF(k, v));
  useEffect(() => setExportError(null), [f]);
  if (calls.error && (calls.error as { status?: number }).status === 404) return null;
  const chip = (k: "userId" | "keyId", label: string) =>
    f[k] && (
      <button type="button" className="btn small" onClick={() => set(k)("")} aria-label={t("Remove filter {name}", { name: label })}>
        {label} ×
      </button>
    );
  const first = calls.data?.list[0];
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
        <SearchInput label={t("Search calls")} value={f.search} onSearch={set("search")} />
        <input aria-label={t("Model")} placeholder={t("Model")} value={f.model} onChange={(e) => set("model")(e.target.value)} />
        {allUsers && (
          <select aria-label={t("Provider")} value={f.providerId} onChange={(e) => set("providerId")(e.target.value)}>
            <option value="">{t("All providers")}</option>
            {(providers.data ?? []).map((p) => (
              <option key={p.id} value={String(p.id)}>
                {p.displayName}
              </option>
            ))}
          </select>
        )}
        <select aria-label={t("Status")} value={f.status} onChange={(e) => set("status")(e.target.value)}>
          <option value="">{t("All statuses")}</option>
          <option value="success">{t("success")}</option>
          <option value="failed">{t("failed")}</option>
          <option value="aborted">{t("aborted")}</option>
        </select>
        {chip("userId", t("User: {name}", { name: (first?.userId === Number(f.userId) && first?.userName) || `#${f.userId}` }))}
        {chip("keyId", t("Key: {name}", { name: (first?.keyId === Number(f.keyId) && first?.keyName) || `#${f.keyId}` }))}
      </div>
      <PagedList paged={calls} empty={<Empty>{t("No calls match.")}</Empty>} pagerWhenEmpty={false}>
        {(list) => (
          <Table
            testId="call-history"
            columns={[
              t("Time"),
              allUsers && t("User"),
              t("Key"),
              t("Model"),
              t("Status"),
              { label: t("Tokens in / out"), num: true },
              { label: t("Credits"), num: true },
              { label: t("Duration"), num: true },
            ]}
            actions
          >
            {list.map((c: ModelCall) => (
              <tr key={c.id} data-call={c.requestId}>
                <td>{formatDate(c.createdAt ?? c.callTime ?? null)}</td>
                {allUsers && (
                  <td>
                    {c.userId != null ? (
                      <button type="button" className="linkish" onClick={() => set("userId")(String(c.userId))} title={t("Only this user's calls")}>
                        {c.userName ?? `#${c.userId}`}
                      </button>
                    ) : (
                      "–"
                    )}
                  </td>
                )}
                <td>
                  {c.keyId != null ? (
                    <button type="button" className="linkish" onClick={() => set("keyId")(String(c.keyId))} title={t("Only this key's calls")}>
                      {c.keyName ?? `#${c.keyId}`}
                    </button>
                  ) : (
                    "–"
                  )}
                </td>
                <td>
                  <code>{c.provider && !c.model.includes("/") ? `${c.provider}/${c.model}` : c.model}</code>
                </td>
                <td>
                  <Badge tone={c.status === "success" ? "ok" : c.status === "aborted" ? "warn" : "bad"}>{t(c.status)}</Badge>
                  {c.errorReason && <div className="error-text small">{c.errorReason}</div>}
                </td>
                <td className="num">
                  <Tokens call={c} />
                </td>
                <td className="num">{formatNumber(num(c.credits), 6)}</td>
                <td className="num">{c.durationMs !== undefined ? `${formatNumber(c.durationMs)} ms` : "–"}</td>
                <td>
                  <button type="button" className="btn small" onClick={() => setOpen(c)} aria-label={t("Details of call {id}", { id: c.requestId ?? c.id })}>
                    {t("Details")}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </PagedList>
      {open && <CallDetail call={open} onClose={() => setOpen(null)} />}
    </>
  );
}

/** "in / out"; a prompt the hub estimated (a stream cut before its usage) shows as "≈N", what was charged. */
function Tokens({ call }: { call: ModelCall }) {
  const { t } = useI18n();
  const input = num(call.usageMetrics?.inputTokens);
  const estimated = !input && call.billedInputTokens ? call.billedInputTokens : null;
  return (
    <>
      {estimated !== null ? (
        <span title={t("Estimated prompt tokens: the stream ended before the provider reported usage.")} data-testid="estimated-input">
          ≈{formatNumber(estimated)}
        </span>
      ) : (
        formatNumber(input)
      )}{" "}
      / {formatNumber(num(call.usageMetrics?.outputTokens))}
    </>
  );
}

function CallDetail({ call: c, onClose }: { call: ModelCall; onClose: () => void }) {
  const { t } = useI18n();
  const u = c.usageMetrics ?? {};
  const rows: [string, React.ReactNode][] = [
    [t("Request ID"), <code key="r">{c.requestId ?? c.id}</code>],
    [t("Time"), formatDate(c.createdAt ?? c.callTime ?? null)],
    [t("User"), c.userId != null ? `${c.userName ?? ""} (#${c.userId})` : "–"],
    [t("Key"), c.keyId != null ? `${c.keyName ?? ""} (#${c.keyId})` : "–"],
    [t("Project"), c.appDid ?? "–"],
    [t("Endpoint"), c.endpoint ?? "–"],
    [t("Provider"), c.provider ?? "–"],
    [t("Model"), c.model],
    [t("Upstream model"), c.upstreamModel ?? "–"],
    [t("Status"), `${t(c.status)}${c.httpStatus ? ` · HTTP ${c.httpStatus}` : ""}${c.stream ? ` · ${t("streamed")}` : ""}`],
    [t("Input tokens"), c.billedInputTokens && !u.inputTokens ? `≈${formatNumber(c.billedInputTokens)} (${t("estimated")})` : formatNumber(num(u.inputTokens))],
    [t("Output tokens"), formatNumber(num(u.outputTokens))],
    [t("Cached input tokens"), formatNumber(num(u.cacheReadInputTokens))],
    [t("Reasoning tokens"), formatNumber(num(u.reasoningTokens))],
    [t("Images"), formatNumber(num(u.numberOfImageGeneration))],
    [t("Credits"), formatNumber(num(c.credits), 8)],
    [t("Duration"), c.durationMs !== undefined ? `${formatNumber(c.durationMs)} ms` : "–"],
    [t("Time to first token"), c.ttfb != null ? `${formatNumber(c.ttfb)} ms` : "–"],
  ];
  return (
    <Modal title={t("Call {id}", { id: c.requestId ?? c.id })} onClose={onClose}>
      <dl className="facts" data-testid="call-detail">
        {rows.map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {c.errorReason && (
        <>
          <h3>{t("Error")}</h3>
          <p className="error-text">{c.errorReason}</p>
        </>
      )}
      {!!c.failover?.length && (
        <>
          <h3>{t("Failover attempts")}</h3>
          <Table compact columns={[t("Provider"), t("Model"), t("HTTP status"), t("Code")]}>
            {c.failover.map((a, i) => (
              <tr key={i}>
                <td>{a.provider}</td>
                <td>{a.model}</td>
                <td>{a.status}</td>
                <td>
                  <code>{a.code}</code>
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </Modal>
  );
}
