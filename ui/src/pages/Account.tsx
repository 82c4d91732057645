// For every signed-in user: their own access keys, credit balance (credits mode) and a link to their usage.
import { isNotAvailable, me } from "../api";
import { useAuth } from "../auth";
import { billing, type LedgerEntry } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { KeysSection, NewKeyForm } from "../components/keys";
import { PagedList, usePaged } from "../components/paged";
import { Empty, InlineError, Loading, Table, useAsync } from "../components/ui";

const PAGE = 10;

export function AccountPage() {
  const { t } = useI18n();
  const { session } = useAuth();
  const keys = usePaged((page, size) => me.keys(page, size), [], PAGE);
  return (
    <section>
      <h1>{t("My account")}</h1>
      <p className="muted">
        {t("Signed in as {name} ({role}).", { name: session?.user.name ?? "", role: t(session?.user.role ?? "member") })}
      </p>
      <CreditCard />
      <KeysSection title={t("My access keys")} keys={keys} revoke={me.revokeKey} form={(props) => <NewKeyForm {...props} create={(name, expiresAt) => me.createKey({ name, expiresAt })} />} />
      <p>
        <Link to="/account/usage">{t("See my usage")} →</Link>
      </p>
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
      <p>
        <Link to="/credits" className="btn small primary">
          {t("Buy credits")}
        </Link>
      </p>
      <MyLedger />
    </>
  );
}

function MyLedger() {
  const { t } = useI18n();
  const ledger = usePaged((page) => billing.myLedger(page), [], 10);
  if (ledger.error) return null;
  return (
    <details className="card">
      <summary>{t("Credit history")}</summary>
      <PagedList paged={ledger}>{(list) => <LedgerTable entries={list} />}</PagedList>
    </details>
  );
}

export function LedgerTable({ entries }: { entries: LedgerEntry[] }) {
  const { t } = useI18n();
  if (!entries.length) return <Empty>{t("No entries.")}</Empty>;
  return (
    <Table
      compact
      columns={[t("Time"), t("Kind"), { label: t("Amount"), num: true }, { label: t("Balance after"), num: true }, t("Reason")]}
    >
      {entries.map((e) => (
        <tr key={e.id}>
          <td>{formatDate(e.createdAt)}</td>
          <td>{t(e.kind)}</td>
          <td className={`num ${Number(e.amount) < 0 ? "error-text" : "ok-text"}`}>{formatNumber(Number(e.amount), 6)}</td>
          <td className="num">{formatNumber(Number(e.balanceAfter), 6)}</td>
          <td>{e.reason ?? (e.requestId ? t("call {id}", { id: e.requestId.slice(0, 8) }) : "–")}</td>
        </tr>
      ))}
    </Table>
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
