// Users (roles, disable) and every access key (create with the key shown once, revoke, expiry, roles);
// both lists are paginated and searched on the server.
import { useState } from "react";
import { admin, type AccessKey, type Role, type User } from "../api";
import { formatDate, useI18n } from "../i18n";
import { KeyTable, NewKeyDialog, expiryFromDate } from "../components/keys";
import { AsyncView, Field, InlineError, Modal, Pager, Switch, useAction, useAsync } from "../components/ui";

const ROLES: Role[] = ["member", "admin", "owner"];
const PAGE = 10;

export function UsersPage() {
  const { t } = useI18n();
  const [userPage, setUserPage] = useState(1);
  const [q, setQ] = useState("");
  const [keyPage, setKeyPage] = useState(1);
  const [keyQ, setKeyQ] = useState("");
  const [keyUser, setKeyUser] = useState<number | undefined>();
  const users = useAsync(() => admin.users(userPage, q, PAGE), [userPage, q]);
  const keys = useAsync(() => admin.keys(keyPage, { q: keyQ, userId: keyUser }, PAGE), [keyPage, keyQ, keyUser]);
  const names = new Map((users.data?.list ?? []).map((u) => [u.id, u.name]));
  const [creatingUser, setCreatingUser] = useState(false);
  const [creatingKey, setCreatingKey] = useState(false);
  const [created, setCreated] = useState<AccessKey | null>(null);
  const action = useAction();

  return (
    <section>
      <h1>{t("Users and access keys")}</h1>

      <div className="section-head">
        <h2>{t("Users")}</h2>
        <div className="row gap wrap">
          <input
            type="search"
            aria-label={t("Search users")}
            placeholder={t("Search users")}
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              setUserPage(1);
            }}
          />
          <button type="button" className="btn primary small" onClick={() => setCreatingUser(true)}>
            {t("New user")}
          </button>
        </div>
      </div>
      <InlineError error={action.error} />
      <AsyncView state={users}>
        {(page) => (
          <>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>{t("Name")}</th>
                    <th>{t("Email")}</th>
                    <th>{t("Role")}</th>
                    <th>{t("Created")}</th>
                    <th>{t("Active")}</th>
                    <th>
                      <span className="sr-only">{t("Actions")}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.list.map((u: User) => (
                    <tr key={u.id} data-user={u.name}>
                      <td>{u.name}</td>
                      <td>{u.email ?? "–"}</td>
                      <td>
                        <select
                          aria-label={t("Role of {name}", { name: u.name })}
                          value={u.role}
                          disabled={action.busy}
                          onChange={(e) => action.run(() => admin.updateUser(u.id, { role: e.target.value as Role })).then(users.reload)}
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {t(r)}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>{formatDate(u.createdAt)}</td>
                      <td>
                        <Switch
                          checked={!u.disabled}
                          label={t("User {name} active", { name: u.name })}
                          disabled={action.busy}
                          onChange={(v) => action.run(() => admin.updateUser(u.id, { disabled: !v })).then(users.reload)}
                        />
                      </td>
                      <td>
                        <button
                          type="button"
                          className="btn small"
                          onClick={() => {
                            setKeyUser(u.id);
                            setKeyPage(1);
                          }}
                        >
                          {t("Show keys")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager page={userPage} pageSize={PAGE} count={page.count} onPage={setUserPage} />
          </>
        )}
      </AsyncView>

      <div className="section-head">
        <h2>{t("Access keys")}</h2>
        <div className="row gap wrap">
          {keyUser !== undefined && (
            <button type="button" className="btn small" onClick={() => setKeyUser(undefined)}>
              {t("User: {name}", { name: names.get(keyUser) ?? `#${keyUser}` })} ×
            </button>
          )}
          <input
            type="search"
            aria-label={t("Search keys")}
            placeholder={t("Search keys")}
            value={keyQ}
            onChange={(e) => {
              setKeyQ(e.target.value);
              setKeyPage(1);
            }}
          />
          <button type="button" className="btn primary small" onClick={() => setCreatingKey(true)}>
            {t("New key")}
          </button>
        </div>
      </div>
      <AsyncView state={keys}>
        {(page) => (
          <>
            <KeyTable
              keys={page.list}
              busy={action.busy}
              userName={(id) => names.get(id) ?? `#${id}`}
              onRevoke={(k) => action.run(() => admin.revokeKey(k.id)).then(keys.reload)}
            />
            <Pager page={keyPage} pageSize={PAGE} count={page.count} onPage={setKeyPage} />
          </>
        )}
      </AsyncView>

      {creatingUser && (
        <UserForm
          onClose={() => setCreatingUser(false)}
          onSaved={() => {
            setCreatingUser(false);
            users.reload();
          }}
        />
      )}
      {creatingKey && (
        <KeyForm
          users={users.data?.list ?? []}
          defaultUser={keyUser}
          onClose={() => setCreatingKey(false)}
          onCreated={(k) => {
            setCreatingKey(false);
            setCreated(k);
            keys.reload();
            users.reload();
          }}
        />
      )}
      {created && <NewKeyDialog created={created} onClose={() => setCreated(null)} />}
    </section>
  );
}

function UserForm({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const action = useAction();
  return (
    <Modal title={t("New user")} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await action.run(() => admin.createUser({ name: name.trim(), role, email: email.trim() || undefined }))) onSaved();
        }}
      >
        <Field label={t("Name")}>
          <input name="name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label={t("Email")}>
          <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <Field label={t("Role")}>
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(r)}
              </option>
            ))}
          </select>
        </Field>
        <InlineError error={action.error} />
        <div className="row gap end">
          <button type="button" className="btn" onClick={onClose}>
            {t("Cancel")}
          </button>
          <button type="submit" className="btn primary" disabled={action.busy}>
            {t("Create user")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

function KeyForm({
  users,
  defaultUser,
  onClose,
  onCreated,
}: {
  users: User[];
  defaultUser?: number;
  onClose: () => void;
  onCreated: (k: AccessKey) => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [owner, setOwner] = useState<string>(defaultUser !== undefined ? String(defaultUser) : "new");
  const [newUserName, setNewUserName] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [expires, setExpires] = useState("");
  const action = useAction();
  return (
    <Modal title={t("New access key")} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const body =
            owner === "new"
              ? { name: name.trim(), createUser: true, role, expiresAt: expiryFromDate(expires) }
              : owner === "me"
                ? { name: name.trim(), role, expiresAt: expiryFromDate(expires) }
                : { name: name.trim(), userId: Number(owner), role, expiresAt: expiryFromDate(expires) };
          const created = await action.run(async () => {
            if (owner === "new" && newUserName.trim()) {
              const user = await admin.createUser({ name: newUserName.trim(), role });
              return admin.createKey({ name: name.trim(), userId: user.id, role, expiresAt: expiryFromDate(expires) });
            }
            return admin.createKey(body);
          });
          if (created) onCreated(created);
        }}
      >
        <Field label={t("Key name")} hint={t("E.g. the app or person that will use it.")}>
          <input name="keyName" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label={t("Belongs to")}>
          <select name="owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
            <option value="new">{t("A new user")}</option>
            <option value="me">{t("Me")}</option>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {u.name} ({t(u.role)})
              </option>
            ))}
          </select>
        </Field>
        {owner === "new" && (
          <Field label={t("New user's name")} hint={t("Defaults to the key name.")}>
            <input name="newUserName" maxLength={200} value={newUserName} onChange={(e) => setNewUserName(e.target.value)} />
          </Field>
        )}
        <Field label={t("Role")} hint={t("Never more than the user's own role.")}>
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(r)}
              </option>
            ))}
          </select>
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
