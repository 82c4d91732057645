// Users (roles, disable) and every access key (create with the key shown once, revoke, expiry, roles);
// both lists are paginated and searched on the server.
import { useEffect, useState } from "react";
import { admin, type Role, type User } from "../api";
import { useAuth } from "../auth";
import { formatDate, useI18n } from "../i18n";
import { BulkBar, SelectAll, SelectRow, useSelection } from "../components/bulk";
import { ModalForm, TextField } from "../components/forms";
import { Notice, useNotice } from "../components/notice";
import { KeysSection, NewKeyForm, type KeyFormProps } from "../components/keys";
import { PagedList, usePaged } from "../components/paged";
import { Field, InlineError, SearchInput, SectionHead, Switch, Table, useAction } from "../components/ui";

const ROLES: Role[] = ["member", "admin", "owner"];
const PAGE = 10;

/** Roles up to `max` (a key never acts above its user's role, so it is not offered above it). */
function RoleOptions({ max = "owner" }: { max?: Role }) {
  const { t } = useI18n();
  return (
    <>
      {ROLES.slice(0, ROLES.indexOf(max) + 1).map((r) => (
        <option key={r} value={r}>
          {t(r)}
        </option>
      ))}
    </>
  );
}

export function UsersPage() {
  const { t } = useI18n();
  const [q, setQ] = useState("");
  const [keyQ, setKeyQ] = useState("");
  const [keyUser, setKeyUser] = useState<number | undefined>();
  const users = usePaged((page, size) => admin.users(page, q, size), [q], PAGE);
  const keys = usePaged((page, size) => admin.keys(page, { q: keyQ, userId: keyUser }, size), [keyQ, keyUser], PAGE);
  const names = new Map((users.data?.list ?? []).map((u) => [u.id, u.name]));
  const [creatingUser, setCreatingUser] = useState(false);
  const pickedUsers = useSelection((users.data?.list ?? []).map((u) => u.id));
  const action = useAction();
  const notice = useNotice();
  const { setError } = action;
  // an error belongs to the action that caused it: searching, paging or another list clears it
  useEffect(() => setError(null), [q, users.page, keyQ, keyUser, setError]);

  return (
    <section>
      <h1>{t("Users and access keys")}</h1>

      <SectionHead title={t("Users")}>
        <div className="row gap wrap">
          <SearchInput label={t("Search users")} value={q} onSearch={users.filter(setQ)} />
          <button type="button" className="btn primary small" onClick={() => setCreatingUser(true)}>
            {t("New user")}
          </button>
        </div>
      </SectionHead>
      <InlineError error={action.error} />
      <Notice notice={notice} testId="users-notice" />
      <BulkBar
        selection={pickedUsers}
        actions={[
          { label: t("Enable"), run: (id: number) => admin.updateUser(id, { disabled: false }) },
          { label: t("Disable"), danger: true, confirm: t("Disable {n} users? Their keys stop working at once."), run: (id: number) => admin.updateUser(id, { disabled: true }) },
        ]}
        onDone={users.reload}
      />
      <PagedList paged={users}>
        {(list) => (
          <Table pick={<SelectAll selection={pickedUsers} label={t("Select all users on this page")} />} columns={[t("Name"), t("Email"), t("Role"), t("Created"), t("Active")]} actions>
            {list.map((u: User) => (
              <tr key={u.id} data-user={u.name}>
                <td className="pick">
                  <SelectRow selection={pickedUsers} id={u.id} label={t("Select user {name}", { name: u.name })} />
                </td>
                <td>{u.name}</td>
                <td>{u.email ?? "–"}</td>
                <td>
                  <select
                    aria-label={t("Role of {name}", { name: u.name })}
                    value={u.role}
                    disabled={action.busy}
                    onChange={(e) => {
                      const role = e.target.value as Role;
                      action.run(() => admin.updateUser(u.id, { role })).then((r) => {
                        notice.show(r ? t("{name} is now {role}.", { name: u.name, role: t(role) }) : null);
                        users.reload();
                      });
                    }}
                  >
                    <RoleOptions />
                  </select>
                </td>
                <td>{formatDate(u.createdAt)}</td>
                <td>
                  <Switch
                    checked={!u.disabled}
                    label={t("User {name} active", { name: u.name })}
                    disabled={action.busy}
                    onChange={(v) =>
                      action.run(() => admin.updateUser(u.id, { disabled: !v })).then((r) => {
                        notice.show(r ? t(v ? "User {name} enabled." : "User {name} disabled.", { name: u.name }) : null);
                        users.reload();
                      })
                    }
                  />
                </td>
                <td>
                  <button
                    type="button"
                    className="btn small"
                    onClick={() => keys.filter(setKeyUser)(u.id)}
                  >
                    {t("Show keys")}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </PagedList>

      <KeysSection
        title={t("Access keys")}
        keys={keys}
        revoke={admin.revokeKey}
        userName={(id) => names.get(id) ?? `#${id}`}
        tools={
          <>
            {keyUser !== undefined && (
              <button type="button" className="btn small" onClick={() => setKeyUser(undefined)}>
                {t("User: {name}", { name: names.get(keyUser) ?? `#${keyUser}` })} ×
              </button>
            )}
            <SearchInput label={t("Search keys")} value={keyQ} onSearch={keys.filter(setKeyQ)} />
          </>
        }
        form={(props) => <KeyForm users={users.data?.list ?? []} defaultUser={keyUser} {...props} />}
        onCreated={users.reload}
      />

      {creatingUser && (
        <UserForm
          onClose={() => setCreatingUser(false)}
          onSaved={(u) => {
            notice.show(t("User {name} created.", { name: u.name }));
            setCreatingUser(false);
            users.reload();
          }}
        />
      )}
    </section>
  );
}

function UserForm({ onClose, onSaved }: { onClose: () => void; onSaved: (u: User) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  return (
    <ModalForm
      title={t("New user")}
      submitLabel={t("Create user")}
      onClose={onClose}
      submit={() => admin.createUser({ name: name.trim(), role, email: email.trim() || undefined })}
      onDone={onSaved}
    >
      <TextField label={t("Name")} name="name" required maxLength={200} value={name} onValue={setName} />
      <TextField label={t("Email")} name="email" type="email" value={email} onValue={setEmail} />
      <Field label={t("Role")}>
        <select name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <RoleOptions />
        </select>
      </Field>
    </ModalForm>
  );
}

function KeyForm({ users, defaultUser, ...props }: KeyFormProps & { users: User[]; defaultUser?: number }) {
  const { t } = useI18n();
  const [owner, setOwner] = useState<string>(defaultUser !== undefined ? String(defaultUser) : "new");
  const [newUserName, setNewUserName] = useState("");
  const { session } = useAuth();
  const [role, setRole] = useState<Role>("member");
  const ownerRole: Role =
    owner === "new" ? "owner" : owner === "me" ? (session?.user.role ?? "member") : (users.find((u) => String(u.id) === owner)?.role ?? "member");
  const keyRole = ROLES.indexOf(role) > ROLES.indexOf(ownerRole) ? ownerRole : role;
  return (
    <NewKeyForm
      {...props}
      create={async (name, expiresAt) => {
        if (owner === "new" && newUserName.trim()) {
          const user = await admin.createUser({ name: newUserName.trim(), role: keyRole });
          return admin.createKey({ name, userId: user.id, role: keyRole, expiresAt });
        }
        if (owner === "new") return admin.createKey({ name, createUser: true, role: keyRole, expiresAt });
        if (owner === "me") return admin.createKey({ name, role: keyRole, expiresAt });
        return admin.createKey({ name, userId: Number(owner), role: keyRole, expiresAt });
      }}
    >
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
        <TextField
          label={t("New user's name")}
          hint={t("Defaults to the key name.")}
          name="newUserName"
          maxLength={200}
          value={newUserName}
          onValue={setNewUserName}
        />
      )}
      <Field label={t("Role")} hint={owner === "new" ? t("The new user gets this role too.") : t("Never more than the user's own role.")}>
        <select name="role" value={keyRole} onChange={(e) => setRole(e.target.value as Role)}>
          <RoleOptions max={ownerRole} />
        </select>
      </Field>
    </NewKeyForm>
  );
}
