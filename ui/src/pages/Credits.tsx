// Billing: the active mode (none, self-hosted, credits) and its settings; in credits mode every user's
// balance, their ledger and manual grants.
import { useState } from "react";
import { admin, isNotAvailable } from "../api";
import { billing, type BillingConfig, type BillingMode } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { LedgerTable } from "./Account";
import { ExpiryField, ModalForm, TextField, expiryFromDate } from "../components/forms";
import { PagedList, usePaged } from "../components/paged";
import { AsyncView, Badge, Empty, Field, InlineError, Modal, NotAvailable, SearchInput, SectionHead, Table, useAction, useAsync } from "../components/ui";

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

/** What each mode means for the people calling, in the console's words (a mode's own description comes from its
 * plugin, in English; these say how the modes differ). */
const MODE_NOTES: Record<string, string> = {
  none: "No billing plugin: every call is metered in the usage log, nothing is charged and every served model can be called.",
  free: "Like None (metered, never charged), with one setting: refuse models that have no rate.",
  credits: "Each call is priced from its model's rate and paid from the caller's credits; models without a rate are refused; an empty balance answers 402 with the payment link.",
};

function modeName(m: BillingMode | undefined, name: string, t: (s: string) => string): string {
  return name === "none" ? t("None") : t(m?.displayName ?? name);
}

function ModeCard({ config, onChanged }: { config: BillingConfig; onChanged: (c: BillingConfig) => void }) {
  const { t } = useI18n();
  const action = useAction();
  const [chosen, setChosen] = useState(config.active);
  const [confirming, setConfirming] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const active = config.modes.find((m) => m.name === config.active);
  const picked = config.modes.find((m) => m.name === chosen);
  const [editing, setEditing] = useState<BillingMode | null>(null);
  const note = (name: string, m?: BillingMode) => t(MODE_NOTES[name] ?? m?.description ?? "");
  return (
    <div className="card" data-testid="billing-mode">
      <div className="card-head">
        <div>
          <h2>{t("Billing mode")}</h2>
          <p className="muted small">
            {t("Active")}: <strong>{modeName(active, config.active, t)}</strong> · {note(config.active, active)}
          </p>
        </div>
        <div className="row gap wrap">
          <label className="row gap">
            <span className="sr-only">{t("Billing mode")}</span>
            <select
              aria-label={t("Billing mode")}
              value={chosen}
              disabled={action.busy}
              onChange={(e) => {
                setSaved(null);
                setChosen(e.target.value);
              }}
            >
              <option value="none">{t("None")}</option>
              {config.modes.map((m) => (
                <option key={m.name} value={m.name} disabled={!m.pluginEnabled}>
                  {t(m.displayName)}
                  {m.pluginEnabled ? "" : ` (${t("plugin disabled")})`}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="btn small primary" disabled={chosen === config.active || action.busy} onClick={() => setConfirming(true)}>
            {t("Apply…")}
          </button>
          {active?.settingsSchema?.properties && (
            <button type="button" className="btn small" onClick={() => setEditing(active)}>
              {t("Settings")}
            </button>
          )}
        </div>
      </div>
      {chosen !== config.active && (
        <p className="small" data-testid="mode-preview">
          <strong>{modeName(picked, chosen, t)}</strong>: {note(chosen, picked)}
        </p>
      )}
      <div className="row gap wrap small">
        {active && <Badge tone={active.charges ? "ok" : "muted"}>{active.charges ? t("charges credits") : t("free")}</Badge>}
        <span className="muted">{t("{n} model rates", { n: config.rates })}</span>
        {saved && (
          <span role="status" className="ok-text">
            {saved}
          </span>
        )}
      </div>
      <InlineError error={action.error} />
      {confirming && (
        <Modal title={t("Switch billing to {mode}?", { mode: modeName(picked, chosen, t) })} onClose={() => setConfirming(false)}>
          <p>{note(chosen, picked)}</p>
          <p className="muted small">{t("The change applies to the next call on every instance of this hub.")}</p>
          <div className="row gap end">
            <button type="button" className="btn" onClick={() => setConfirming(false)}>
              {t("Cancel")}
            </button>
            <button
              type="button"
              className="btn primary"
              disabled={action.busy}
              onClick={async () => {
                const updated = await action.run(() => billing.setConfig({ mode: chosen }));
                setConfirming(false);
                if (updated) {
                  onChanged(updated);
                  setSaved(t("Billing mode is now {mode}.", { mode: modeName(updated.modes.find((m) => m.name === updated.active), updated.active, t) }));
                }
              }}
            >
              {t("Switch")}
            </button>
          </div>
        </Modal>
      )}
      {editing && (
        <ModeSettings
          mode={editing}
          onClose={() => setEditing(null)}
          onSaved={(c) => {
            setEditing(null);
            onChanged(c);
            setSaved(t("Settings saved."));
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
  const numeric = (key: string) => props[key]?.type === "number" || props[key]?.type === "integer";
  const typed = (k: string, v: string) => (props[k]?.type === "boolean" ? v === "true" : numeric(k) ? (v === "" ? null : Number(v)) : v);
  return (
    <ModalForm
      title={t("{name} settings", { name: t(mode.displayName) })}
      submitLabel={t("Save")}
      onClose={onClose}
      submit={() => billing.setConfig({ mode: mode.name, settings: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typed(k, v)])) })}
      onDone={onSaved}
    >
      {Object.entries(props).map(([key, p]) =>
        p.type === "boolean" ? (
          <label key={key} className="check field">
            <input type="checkbox" name={key} checked={values[key] === "true"} onChange={(e) => setValues({ ...values, [key]: String(e.target.checked) })} />{" "}
            {t(p.title ?? key)}
          </label>
        ) : p.enum ? (
          <Field key={key} label={t(p.title ?? key)}>
            <select name={key} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.target.value })}>
              {p.enum.map((o) => (
                <option key={o} value={o}>
                  {o || t("(none)")}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <TextField
            key={key}
            label={t(p.title ?? key)}
            name={key}
            inputMode={numeric(key) ? "decimal" : undefined}
            value={values[key]}
            onValue={(v) => setValues({ ...values, [key]: v })}
          />
        ),
      )}
    </ModalForm>
  );
}

type Who = { id: number; name: string };

function Accounts({ active }: { active: boolean }) {
  const { t } = useI18n();
  const [q, setQ] = useState("");
  const accounts = usePaged((page, pageSize) => billing.accounts({ page, pageSize, q }), [q], PAGE);
  const [ledgerOf, setLedgerOf] = useState<Who | null>(null);
  const [granting, setGranting] = useState<Who | null>(null);
  if (accounts.error && isNotAvailable(accounts.error)) return <NotAvailable feature={t("Credits")} />;
  return (
    <>
      {!active && <p className="warn-text">{t("The credits mode is installed but not active: balances are kept, calls are not charged.")}</p>}
      <SectionHead title={t("Accounts")}>
        <SearchInput label={t("Search users")} value={q} onSearch={accounts.filter(setQ)} />
      </SectionHead>
      <PagedList paged={accounts} empty={<Empty>{t("No credit accounts yet. Grant credits to a user to open one.")}</Empty>}>
        {(list) => (
          <Table
            columns={[
              t("User"),
              { label: t("Balance"), num: true },
              { label: t("On hold"), num: true },
              { label: t("Granted"), num: true },
              { label: t("Used"), num: true },
            ]}
            actions
          >
            {list.map((a) => {
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
          </Table>
        )}
      </PagedList>
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
        <SearchInput label={t("Find user")} value={q} onSearch={setQ} />
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
  const ledger = usePaged((page) => billing.ledger(user.id, page), [user.id], 20);
  return (
    <Modal title={t("Ledger of {name}", { name: user.name })} onClose={onClose}>
      <PagedList paged={ledger}>{(list) => <LedgerTable entries={list} />}</PagedList>
    </Modal>
  );
}

function GrantForm({ user, onClose, onSaved }: { user: Who; onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [expires, setExpires] = useState("");
  return (
    <ModalForm
      title={t("Grant credits to {name}", { name: user.name })}
      submitLabel={t("Grant")}
      onClose={onClose}
      submit={() =>
        billing.grant({ userId: user.id, amount: amount.trim(), reason: reason.trim() || undefined, expiresAt: expiryFromDate(expires) })
      }
      onDone={onSaved}
    >
      <TextField
        label={t("Amount (credits)")}
        name="amount"
        inputMode="decimal"
        required
        pattern="[0-9]*\.?[0-9]+"
        value={amount}
        onValue={setAmount}
      />
      <TextField label={t("Reason")} name="reason" maxLength={500} value={reason} onValue={setReason} />
      <ExpiryField value={expires} onValue={setExpires} />
    </ModalForm>
  );
}
