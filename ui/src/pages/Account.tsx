// For every signed-in user: their own access keys, credit balance (credits mode) and a link to their usage.
import { useState } from "react";
import { isNotAvailable, me, type AccessKey } from "../api";
import { useAuth } from "../auth";
import { billing } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { KeyTable, NewKeyDialog, expiryFromDate } from "../components/keys";
import { AsyncView, Field, InlineError, Modal, Pager, useAction, useAsync } from "../components/ui";

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

/** Balance and quota from the credits plugin; a quiet note when billing is off or not installed. */
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
  if (quota.loading && quota.data === undefined) return null;
  if (quota.error) return <InlineError error={quota.error} />;
  if (!quota.data) {
    return (
      <div className="card note" data-testid="credits-unavailable">
        {t("Credit billing is not enabled on this hub: calls are metered, not charged.")}
      </div>
    );
  }
  const q = quota.data;
  return (
    <div className="stats">
      <Stat label={t("Credit balance")} value={formatNumber(Number(q.remaining ?? 0), 4)} />
      <Stat label={t("Used")} value={formatNumber(Number(q.used ?? 0), 4)} />
      {q.dailyAverage !== undefined && <Stat label={t("Daily average")} value={formatNumber(Number(q.dailyAverage), 4)} />}
      {q.estimatedDaysRemaining !== undefined && (
        <Stat label={t("Days left (estimate)")} value={q.estimatedDaysRemaining >= 999 ? "∞" : formatNumber(q.estimatedDaysRemaining)} />
      )}
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
