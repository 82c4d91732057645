// Access-key pieces shared by the admin's Users page and the user's own Account page: the paged list with its
// "New key" button and revoke, the table, the key-name field and the "shown once" dialog.
import { useEffect, useState, type ReactNode } from "react";
import type { AccessKey } from "../api";
import { formatDate, useI18n } from "../i18n";
import { BulkBar, SelectAll, SelectRow, useSelection, type Selection } from "./bulk";
import { ExpiryField, ModalForm, TextField, expiryFromDate } from "./forms";
import { Notice, useNotice } from "./notice";
import { PagedList, type Paged } from "./paged";
import { Badge, ConfirmButton, CopyButton, InlineError, Modal, SectionHead, Table, useAction } from "./ui";

/** What a key-creating form gets: close it, or hand over the created key (shown once, then listed). */
export interface KeyFormProps {
  onClose: () => void;
  onCreated: (k: AccessKey) => void;
}

/** A titled, paged access-key list: `tools` (filters) sit before the "New key" button, `form` draws the
 * create dialog, `onCreated` runs after a key was created (the list itself reloads). */
export function KeysSection({
  title,
  keys,
  revoke,
  userName,
  tools,
  form,
  onCreated,
}: {
  title: string;
  keys: Paged<AccessKey>;
  revoke: (id: number) => Promise<unknown>;
  userName?: (id: number) => string;
  tools?: ReactNode;
  form: (props: KeyFormProps) => ReactNode;
  onCreated?: () => void;
}) {
  const { t } = useI18n();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AccessKey | null>(null);
  const action = useAction();
  const notice = useNotice();
  const { setError } = action;
  useEffect(() => setError(null), [keys.page, setError]);
  const picked = useSelection((keys.data?.list ?? []).filter((k) => k.status === "active").map((k) => k.id));
  const newKey = (
    <button type="button" className="btn primary small" onClick={() => setCreating(true)}>
      {t("New key")}
    </button>
  );
  return (
    <>
      <SectionHead title={title}>
        {tools ? (
          <div className="row gap wrap">
            {tools}
            {newKey}
          </div>
        ) : (
          newKey
        )}
      </SectionHead>
      <InlineError error={action.error} />
      <Notice notice={notice} testId="keys-notice" />
      <BulkBar
        selection={picked}
        actions={[{ label: t("Revoke"), danger: true, confirm: t("Revoke {n} keys? Apps using them stop working at once."), run: (id: number) => revoke(id) }]}
        onDone={keys.reload}
      />
      <PagedList paged={keys}>
        {(list) => (
          <KeyTable
            picked={picked}
            keys={list}
            busy={action.busy}
            userName={userName}
            onRevoke={(k) => action.run(() => revoke(k.id)).then(keys.reload)}
          />
        )}
      </PagedList>
      {creating &&
        form({
          onClose: () => setCreating(false),
          onCreated: (k) => {
            setCreating(false);
            setCreated(k);
            notice.show(t("Key {name} created.", { name: k.name }));
            keys.reload();
            onCreated?.();
          },
        })}
      {created && <NewKeyDialog created={created} onClose={() => setCreated(null)} />}
    </>
  );
}

export function KeyTable({
  keys,
  onRevoke,
  userName,
  busy,
  picked,
}: {
  picked?: Selection<number>;
  keys: AccessKey[];
  onRevoke: (k: AccessKey) => void;
  userName?: (id: number) => string;
  busy?: boolean;
}) {
  const { t } = useI18n();
  return (
    <Table
      pick={picked && <SelectAll selection={picked} label={t("Select all active keys on this page")} />}
      columns={[t("Name"), t("Key"), userName && t("User"), t("Role"), t("Status"), t("Created"), t("Expires"), t("Last used")]}
      actions
    >
      {keys.map((k) => (
        <tr key={k.id} data-key={k.name}>
          {picked && (
            <td className="pick">
              {k.status === "active" && <SelectRow selection={picked} id={k.id} label={t("Select key {name}", { name: k.name })} />}
            </td>
          )}
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
              <ConfirmButton
                question={t("Revoke key {name}? Apps using it stop working at once.", { name: k.name })}
                label={t("Revoke key {name}", { name: k.name })}
                disabled={busy}
                onConfirm={() => onRevoke(k)}
              >
                {t("Revoke")}
              </ConfirmButton>
            )}
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** The "New access key" dialog: key name, `children` (extra fields), expiry; `create` makes the key from the
 * trimmed name and the expiry timestamp. */
export function NewKeyForm({
  onClose,
  onCreated,
  create,
  children,
}: KeyFormProps & { create: (name: string, expiresAt: string | null) => Promise<AccessKey>; children?: ReactNode }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  return (
    <ModalForm
      title={t("New access key")}
      submitLabel={t("Create key")}
      onClose={onClose}
      submit={() => create(name.trim(), expiryFromDate(expires))}
      onDone={onCreated}
    >
      <TextField
        label={t("Key name")}
        hint={t("E.g. the app or person that will use it.")}
        name="keyName"
        required
        maxLength={200}
        value={name}
        onValue={setName}
      />
      {children}
      <ExpiryField value={expires} onValue={setExpires} />
    </ModalForm>
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
