// Access-key pieces shared by the admin page and the user's own page: the table and the "shown once" dialog.
import type { AccessKey } from "../api";
import { formatDate, useI18n } from "../i18n";
import { Badge, CopyButton, Modal } from "./ui";

export function KeyTable({
  keys,
  onRevoke,
  userName,
  busy,
}: {
  keys: AccessKey[];
  onRevoke: (k: AccessKey) => void;
  userName?: (id: number) => string;
  busy?: boolean;
}) {
  const { t } = useI18n();
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th>{t("Name")}</th>
            <th>{t("Key")}</th>
            {userName && <th>{t("User")}</th>}
            <th>{t("Role")}</th>
            <th>{t("Status")}</th>
            <th>{t("Created")}</th>
            <th>{t("Expires")}</th>
            <th>{t("Last used")}</th>
            <th>
              <span className="sr-only">{t("Actions")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-key={k.name}>
              <td>
                {k.name}
                {k.current && <div className="muted small">{t("this session")}</div>}
              </td>
              <td>
                <code>{k.maskedKey}</code>
              </td>
              {userName && <td>{userName(k.userId)}</td>}
              <td>{t(k.role)}</td>
              <td>
                <Badge tone={k.status === "active" ? "ok" : k.status === "expired" ? "warn" : "muted"}>{t(k.status)}</Badge>
              </td>
              <td>{formatDate(k.createdAt)}</td>
              <td>{k.expiresAt ? formatDate(k.expiresAt) : t("never")}</td>
              <td>{formatDate(k.lastUsedAt)}</td>
              <td>
                {k.status === "active" && (
                  <button
                    type="button"
                    className="btn small danger"
                    disabled={busy}
                    aria-label={t("Revoke key {name}", { name: k.name })}
                    onClick={() => {
                      if (window.confirm(t("Revoke key {name}? Apps using it stop working at once.", { name: k.name }))) onRevoke(k);
                    }}
                  >
                    {t("Revoke")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function NewKeyDialog({ created, onClose }: { created: AccessKey; onClose: () => void }) {
  const { t } = useI18n();
  return (
    <Modal title={t("Key created")} onClose={onClose}>
      <p>
        <strong>{t("Copy the key now: it is shown only once.")}</strong>
      </p>
      <div className="code-block">
        <pre>
          <code data-testid="new-key">{created.key}</code>
        </pre>
        <CopyButton text={created.key ?? ""} />
      </div>
      <div className="row end">
        <button type="button" className="btn primary" onClick={onClose}>
          {t("Done")}
        </button>
      </div>
    </Modal>
  );
}

/** "2026-12-31" from a date input becomes the end of that day in the user's timezone. */
export function expiryFromDate(date: string): string | null {
  if (!date) return null;
  const d = new Date(`${date}T23:59:59`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
