// For every signed-in user: their own access keys, credit balance (credits mode) and a link to their usage.
import { useState } from "react";
import { isNotAvailable, me, type AccessKey } from "../api";
import { useAuth } from "../auth";
import { billing, type LedgerEntry } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { KeyTable, NewKeyDialog, expiryFromDate } from "../components/keys";
import { AsyncView, Empty, Field, InlineError, Loading, Modal, Pager, useAction, useAsync } from "../components/ui";

const PAGE = 10;

export function AccountPage() {
  const { t } = useI18n();
  const { session } = useAuth();
  const [page, setPage] = useState(1);
  const keys = useAsync(() => me.keys(page, PAGE), [page]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AccessKey | null>(null);
  const action = useAction();
  return (
    <section>
      <h1>{t("My account")}</h1>
      <p className="muted">
        {t("Signed in as {name} ({role}).", { name: session?.user.name ?? "", role: t(session?.user.role ?? "member") })}
      </p>
      <CreditCard />
      <div className="section-head">
        <h2>{t("My access keys")}</h2>
        <button type="button" className="btn primary small" onClick={() => setCreating(true)}>
          {t("New key")}
        </button>
      </div>
      <InlineError error={action.error} />
      <AsyncView state={keys}>
        {(p) => (
          <>
            <KeyTable keys={p.list} busy={action.busy} onRevoke={(k) => action.run(() => me.revokeKey(k.id)).then(keys.reload)} />
            <Pager page={page} pageSize={PAGE} count={p.count} onPage={setPage} />
          </>
        )}
      </AsyncView>
      <p>
        <Link to="/account/usage">{t("See my usage")} →</Link>
      </p>
      {creating && (
        <MyKeyForm
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            keys.reload();
          }}
        />
      )}
      {created && <NewKeyDialog created={created} onClose={() => setCreated(null)} />}
    </section>
  );
}

/** Balance and quota (credits mode) with the latest ledger entries; a quiet note when billing charges nothing. */
export function CreditCard() {
  const { t } = useI18n();
  const quota = useAsync(
    () =>
      billing.quota().catch((e) => {
        if (isNotAvailable(e)) return null;
        throw e;
      }),
    [],
  );
  if (quota.data === undefined && !quota.error) return <Loading />;
  if (quota.error) return <InlineError error={quota.error} />;
  const q = quota.data;
  if (!q || !q.enableCredit || q.remaining == null) {
    return (
      <div className="card note" data-testid="credits-unavailable">
        {t("Credit billing is not enabled on this hub: calls are metered, not charged.")}
      </div>
    );
  }
  const prefix = q.creditPrefix ?? "";
  const days = q.estimatedDaysRemaining;
  return (
    <>
      <div className="stats" data-testid="credit-balance">
        <Stat label={t("Credit balance")} value={`${prefix}${formatNumber(Number(q.remaining), 4)}`} />
        <Stat label={t("Used")} value={`${prefix}${formatNumber(Number(q.used ?? 0), 4)}`} />
        <Stat label={t("On hold")} value={`${prefix}${formatNumber(Number(q.pendingCredit ?? 0), 4)}`} />
        <Stat label={t("Daily average")} value={formatNumber(Number(q.dailyAvgCredits ?? 0), 4)} />
        <Stat label={t("Days left (estimate)")} value={days == null || days >= 999 ? "∞" : formatNumber(days)} />
      </div>
      <MyLedger />
    </>
  );
}

function MyLedger() {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const state = useAsync(() => billing.myLedger(page), [page]);
  if (state.error) return null;
  return (
    <details className="card">
      <summary>{t("Credit history")}</summary>
      <AsyncView state={state}>
        {(p) => (
          <>
            <LedgerTable entries={p.list} />
            <Pager page={page} pageSize={10} count={p.count} onPage={setPage} />
          </>
        )}
      </AsyncView>
    </details>
  );
}

export function LedgerTable({ entries }: { entries: LedgerEntry[] }) {
  const { t } = useI18n();
  if (!entries.length) return <Empty>{t("No entries.")}</Empty>;
  return (
    <div className="table-wrap">
      <table className="table compact">
        <thead>
          <tr>
            <th>{t("Time")}</th>
            <th>{t("Kind")}</th>
            <th className="num">{t("Amount")}</th>
            <th className="num">{t("Balance after")}</th>
            <th>{t("Reason")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{formatDate(e.createdAt)}</td>
              <td>{t(e.kind)}</td>
              <td className={`num ${Number(e.amount) < 0 ? "error-text" : "ok-text"}`}>{formatNumber(Number(e.amount), 6)}</td>
              <td className="num">{formatNumber(Number(e.balanceAfter), 6)}</td>
              <td>{e.reason ?? (e.requestId ? t("call {id}", { id: e.requestId.slice(0, 8) }) : "–")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
    </div>
  );
}

function MyKeyForm({ onClose, onCreated }: { onClose: () => void; onCreated: (k: AccessKey) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const action = useAction();
  return (
    <Modal title={t("New access key")} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const k = await action.run(() => me.createKey({ name: name.trim(), expiresAt: expiryFromDate(expires) }));
          if (k) onCreated(k);
        }}
      >
        <Field label={t("Key name")} hint={t("E.g. the app or person that will use it.")}>
          <input name="keyName" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label={t("Expires on (optional)")}>
          <input name="expires" type="date" value={expires} min={new Date().toISOString().slice(0, 10)} onChange={(e) => setExpires(e.target.value)} />
        </Field>
        <InlineError error={action.error} />
        <div className="row gap end">
          <button type="button" className="btn" onClick={onClose}>
            {t("Cancel")}
          </button>
          <button type="submit" className="btn primary" disabled={action.busy}>
            {t("Create key")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
