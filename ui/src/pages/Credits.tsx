// Credits mode: every user's balance, their ledger (grants, charges, refunds, expiries) and manual grants.
import { useState } from "react";
import { admin, type User } from "../api";
import { billing } from "../billing";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { AsyncView, Empty, Field, InlineError, Modal, Pager, useAction, useAsync } from "../components/ui";

const PAGE = 10;
const num = (v: unknown) => (v === null || v === undefined || v === "" ? 0 : Number(v));

export function CreditsPage() {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const [q, setQ] = useState("");
  const accounts = useAsync(() => billing.accounts({ page, pageSize: PAGE, q }), [page, q]);
  const [selected, setSelected] = useState<{ id: number; name: string } | null>(null);
  const [granting, setGranting] = useState<{ id: number; name: string } | null>(null);
  return (
    <section>
      <h1>{t("Credits")}</h1>
      <p className="muted">{t("Balances are derived from an append-only ledger. Grants can expire.")}</p>
      <AsyncView state={accounts} feature={t("Credits")}>
        {(p) => (
          <>
            <div className="row gap wrap filters">
              <input type="search" aria-label={t("Search users")} placeholder={t("Search users")} value={q} onChange={(e) => { setQ(e.target.value); setPage(1); }} />
            </div>
            {!p.list.length ? (
              <Empty>{t("No credit accounts yet.")}</Empty>
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
                      const id = num(a.userId ?? a.user_id ?? a.id);
                      const name = String(a.userName ?? a.name ?? (a.user as User | undefined)?.name ?? `#${id}`);
                      return (
                        <tr key={id} data-user={name}>
                          <td>{name}</td>
                          <td className="num">{formatNumber(num(a.balance), 4)}</td>
                          <td className="num">{formatNumber(num(a.held), 4)}</td>
                          <td className="num">{formatNumber(num(a.credited ?? a.granted), 4)}</td>
                          <td className="num">{formatNumber(num(a.debited ?? a.used), 4)}</td>
                          <td className="row gap">
                            <button type="button" className="btn small" onClick={() => setSelected({ id, name })}>
                              {t("Ledger")}
                            </button>
                            <button type="button" className="btn small primary" onClick={() => setGranting({ id, name })}>
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
            <GrantToAnyone onGranted={accounts.reload} />
          </>
        )}
      </AsyncView>
      {selected && <Ledger user={selected} onClose={() => setSelected(null)} />}
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
    </section>
  );
}

/** Users without an account yet: pick any user and grant. */
function GrantToAnyone({ onGranted }: { onGranted: () => void }) {
  const { t } = useI18n();
  const [q, setQ] = useState("");
  const users = useAsync(() => admin.users(1, q, 10), [q]);
  const [user, setUser] = useState<{ id: number; name: string } | null>(null);
  return (
    <details className="card">
      <summary>{t("Grant credits to another user")}</summary>
      <div className="row gap wrap">
        <input type="search" aria-label={t("Find user")} placeholder={t("Find user")} value={q} onChange={(e) => setQ(e.target.value)} />
        {(users.data?.list ?? []).map((u) => (
          <button key={u.id} type="button" className="btn small" onClick={() => setUser({ id: u.id, name: u.name })}>
            {u.name}
          </button>
        ))}
      </div>
      {user && (
        <GrantForm
          user={user}
          onClose={() => setUser(null)}
          onSaved={() => {
            setUser(null);
            onGranted();
          }}
        />
      )}
    </details>
  );
}

function Ledger({ user, onClose }: { user: { id: number; name: string }; onClose: () => void }) {
  const { t } = useI18n();
  const [page, setPage] = useState(1);
  const state = useAsync(() => billing.ledger(user.id, page), [user.id, page]);
  return (
    <Modal title={t("Ledger of {name}", { name: user.name })} onClose={onClose}>
      <AsyncView state={state} feature={t("Ledger")}>
        {(p) =>
          !p.list.length ? (
            <Empty>{t("No entries.")}</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="table compact">
                  <thead>
                    <tr>
                      <th>{t("Time")}</th>
                      <th>{t("Kind")}</th>
                      <th className="num">{t("Amount")}</th>
                      <th>{t("Reason")}</th>
                      <th>{t("Expires")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.list.map((e, i) => (
                      <tr key={String(e.id ?? i)}>
                        <td>{formatDate((e.createdAt ?? e.created_at ?? null) as string | null)}</td>
                        <td>{t(String(e.kind ?? e.type ?? ""))}</td>
                        <td className="num">{formatNumber(num(e.amount), 4)}</td>
                        <td>{String(e.reason ?? "")}</td>
                        <td>{e.expiresAt ? formatDate(e.expiresAt as string) : "–"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager page={page} pageSize={20} count={p.count} onPage={setPage} />
            </>
          )
        }
      </AsyncView>
    </Modal>
  );
}

function GrantForm({ user, onClose, onSaved }: { user: { id: number; name: string }; onClose: () => void; onSaved: () => void }) {
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
          <input name="reason" maxLength={200} value={reason} onChange={(e) => setReason(e.target.value)} />
        </Field>
        <Field label={t("Expires on (optional)")}>
          <input name="expires" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
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
