// Billing: the active mode (none, self-hosted, credits) and its settings; in credits mode every user's
// balance, their ledger and manual grants.
import { useState } from "react";
import { admin, isNotAvailable } from "../api";
import { billing, type BillingConfig, type BillingMode } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { LedgerTable } from "./Account";
import { AsyncView, Badge, Empty, Field, InlineError, Modal, NotAvailable, Pager, useAction, useAsync } from "../components/ui";

const PAGE = 10;

export function CreditsPage() {
  const { t } = useI18n();
  const config = useAsync(() => billing.config(), []);
  return (
    <section>
      <h1>{t("Credits")}</h1>
      <p className="muted">{t("Balances are derived from an append-only ledger. Grants can expire.")}</p>
      <AsyncView state={config} feature={t("Billing")}>
        {(c) => (
          <>
            <ModeCard config={c} onChanged={config.setData} />
            {c.modes.some((m) => m.name === "credits" && m.pluginEnabled) ? (
              <Accounts active={c.active === "credits"} />
            ) : (
              <NotAvailable feature={t("Credits")} detail={t("Install and enable the billing-credits plugin to keep balances.")} />
            )}
          </>
        )}
      </AsyncView>
    </section>
  );
}

function ModeCard({ config, onChanged }: { config: BillingConfig; onChanged: (c: BillingConfig) => void }) {
  const { t } = useI18n();
  const action = useAction();
  const active = config.modes.find((m) => m.name === config.active);
  const [editing, setEditing] = useState<BillingMode | null>(null);
  return (
    <div className="card" data-testid="billing-mode">
      <div className="card-head">
        <div>
          <h2>{t("Billing mode")}</h2>
          <p className="muted small">
            {active?.description ?? t("No billing: calls are metered in the usage log, nothing is charged.")}
          </p>
        </div>
        <div className="row gap wrap">
          <label className="row gap">
            <span className="sr-only">{t("Billing mode")}</span>
            <select
              aria-label={t("Billing mode")}
              value={config.active}
              disabled={action.busy}
              onChange={async (e) => {
                const updated = await action.run(() => billing.setConfig({ mode: e.target.value }));
                if (updated) onChanged(updated);
              }}
            >
              <option value="none">{t("None")}</option>
              {config.modes.map((m) => (
                <option key={m.name} value={m.name} disabled={!m.pluginEnabled}>
                  {m.displayName}
                  {m.pluginEnabled ? "" : ` (${t("plugin disabled")})`}
                </option>
              ))}
            </select>
          </label>
          {active?.settingsSchema?.properties && (
            <button type="button" className="btn small" onClick={() => setEditing(active)}>
              {t("Settings")}
            </button>
          )}
        </div>
      </div>
      <div className="row gap wrap small">
        {active && <Badge tone={active.charges ? "ok" : "muted"}>{active.charges ? t("charges credits") : t("free")}</Badge>}
        <span className="muted">{t("{n} model rates", { n: config.rates })}</span>
      </div>
      <InlineError error={action.error} />
      {editing && (
        <ModeSettings
          mode={editing}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            onChanged(c);
          }}
        />
      )}
    </div>
  );
}

function ModeSettings({ mode, onClose, onSaved }: { mode: BillingMode; onClose: () => void; onSaved: (c: BillingConfig) => void }) {
  const { t } = useI18n();
  const props = mode.settingsSchema?.properties ?? {};
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(Object.keys(props).map((k) => [k, mode.settings?.[k] == null ? "" : String(mode.settings[k])])),
  );
  const action = useAction();
  return (
    <Modal title={t("{name} settings", { name: mode.displayName })} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const settings = Object.fromEntries(
            Object.entries(values).map(([k, v]) => [k, props[k]?.type === "number" || props[k]?.type === "integer" ? (v === "" ? null : Number(v)) : v]),
          );
          const updated = await action.run(() => billing.setConfig({ mode: mode.name, settings }));
          if (updated) onSaved(updated);
        }}
      >
        {Object.entries(props).map(([key, p]) => (
          <Field key={key} label={p.title ?? key}>
            {p.enum ? (
              <select name={key} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.target.value })}>
                {p.enum.map((o) => (
                  <option key={o} value={o}>
                    {o || t("(none)")}
                  </option>
                ))}
              </select>
            ) : (
              <input
                name={key}
                inputMode={p.type === "number" || p.type === "integer" ? "decimal" : undefined}
                value={values[key]}
                onChange={(e) => setValues({ ...values, [key]: e.target.value })}
              />
            )}
          </Field>
        ))}
        <InlineError error={action.error} />
        <div className="row gap end">
          <button type="button" className="btn" onClick={onClose}>
            {t("Cancel")}
          </button>
          <button type="submit" className="btn primary" disabled={action.busy}>
            {t("Save")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type Who = { id: number; name: string };

function Accounts({ active }: { active: boolean }) {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const [q, setQ] = useState("");
  const accounts = useAsync(() => billing.accounts({ page, pageSize: PAGE, q }), [page, q]);
  const [ledgerOf, setLedgerOf] = useState<Who | null>(null);
  const [granting, setGranting] = useState<Who | null>(null);
  if (accounts.error && isNotAvailable(accounts.error)) return <NotAvailable feature={t("Credits")} />;
  return (
    <>
      {!active && <p className="warn-text">{t("The credits mode is installed but not active: balances are kept, calls are not charged.")}</p>}
      <div className="section-head">
        <h2>{t("Accounts")}</h2>
        <input
          type="search"
          aria-label={t("Search users")}
          placeholder={t("Search users")}
          value={q}
          onChange={(e) => {
            setQ(e.target.value);
            setPage(1);
          }}
        />
      </div>
      <AsyncView state={accounts}>
        {(p) => (
          <>
            {!p.list.length ? (
              <Empty>{t("No credit accounts yet. Grant credits to a user to open one.")}</Empty>
            ) : (
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th>{t("User")}</th>
                      <th className="num">{t("Balance")}</th>
                      <th className="num">{t("On hold")}</th>
                      <th className="num">{t("Granted")}</th>
                      <th className="num">{t("Used")}</th>
                      <th>
                        <span className="sr-only">{t("Actions")}</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.list.map((a) => {
                      const who = { id: a.userId, name: a.userName ?? `#${a.userId}` };
                      return (
                        <tr key={a.userId} data-account={who.name}>
                          <td>{who.name}</td>
                          <td className="num">{formatNumber(Number(a.balance), 4)}</td>
                          <td className="num">{formatNumber(Number(a.pendingCredit), 4)}</td>
                          <td className="num">{formatNumber(Number(a.total), 4)}</td>
                          <td className="num">{formatNumber(Number(a.used), 4)}</td>
                          <td className="row gap">
                            <button type="button" className="btn small" onClick={() => setLedgerOf(who)}>
                              {t("Ledger")}
                            </button>
                            <button type="button" className="btn small primary" onClick={() => setGranting(who)}>
                              {t("Grant")}
                            </button>
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
            <Pager page={page} pageSize={PAGE} count={p.count} onPage={setPage} />
          </>
        )}
      </AsyncView>
      <GrantToAnyone onPick={setGranting} />
      {ledgerOf && <Ledger user={ledgerOf} onClose={() => setLedgerOf(null)} />}
      {granting && (
        <GrantForm
          user={granting}
          onClose={() => setGranting(null)}
          onSaved={() => {
            setGranting(null);
            accounts.reload();
          }}
        />
      )}
    </>
  );
}

/** Any user, including those without an account yet. */
function GrantToAnyone({ onPick }: { onPick: (u: Who) => void }) {
  const { t } = useI18n();
  const [q, setQ] = useState("");
  const users = useAsync(() => admin.users(1, q, 8), [q]);
  return (
    <div className="card">
      <h2>{t("Grant credits")}</h2>
      <div className="row gap wrap">
        <input type="search" aria-label={t("Find user")} placeholder={t("Find user")} value={q} onChange={(e) => setQ(e.target.value)} />
        {(users.data?.list ?? []).map((u) => (
          <button key={u.id} type="button" className="btn small" onClick={() => onPick({ id: u.id, name: u.name })}>
            {t("Grant to {name}", { name: u.name })}
          </button>
        ))}
      </div>
    </div>
  );
}

function Ledger({ user, onClose }: { user: Who; onClose: () => void }) {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const state = useAsync(() => billing.ledger(user.id, page), [user.id, page]);
  return (
    <Modal title={t("Ledger of {name}", { name: user.name })} onClose={onClose}>
      <AsyncView state={state}>
        {(p) => (
          <>
            <LedgerTable entries={p.list} />
            <Pager page={page} pageSize={20} count={p.count} onPage={setPage} />
          </>
        )}
      </AsyncView>
    </Modal>
  );
}

function GrantForm({ user, onClose, onSaved }: { user: Who; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [expires, setExpires] = useState("");
  const action = useAction();
  return (
    <Modal title={t("Grant credits to {name}", { name: user.name })} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await action.run(() =>
            billing.grant({
              userId: user.id,
              amount: amount.trim(),
              reason: reason.trim() || undefined,
              expiresAt: expires ? new Date(`${expires}T23:59:59`).toISOString() : null,
            }),
          );
          if (ok) onSaved();
        }}
      >
        <Field label={t("Amount (credits)")}>
          <input name="amount" inputMode="decimal" required pattern="[0-9]*\.?[0-9]+" value={amount} onChange={(e) => setAmount(e.target.value)} />
        </Field>
        <Field label={t("Reason")}>
          <input name="reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
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
            {t("Grant")}
          </button>
        </div>
      </form>
    </Modal>
  );
}
