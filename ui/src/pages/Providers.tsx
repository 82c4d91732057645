// Every installed provider plugin, configured or not: add / edit / enable / disable, credentials (masked)
// with add (form from the plugin's credential schema), activate, delete; health from each credential's
// state and last error, and a live test call through the hub.
import { useState } from "react";
import { ApiError, admin, request, type AvailableProvider, type Credential, type Provider } from "../api";
import { formatDate, formatNumber, useI18n } from "../i18n";
import { Link } from "../router";
import { BulkBar, SelectAll, SelectRow, useSelection, type Selection } from "../components/bulk";
import { CompatibleForm } from "../components/CompatibleForm";
import { SchemaFields, schemaFields } from "../components/SchemaForm";
import { ModalForm, TextField } from "../components/forms";
import { Notice, useNotice, type NoticeState } from "../components/notice";
import { AsyncView, Badge, ConfirmButton, Empty, InlineError, Switch, Table, errorMessage, useAction, useAsync } from "../components/ui";

interface Row {
  plugin: AvailableProvider | null;
  provider: Provider | null;
  name: string;
}

async function load(): Promise<Row[]> {
  const [available, providers] = await Promise.all([admin.availableProviders(), admin.providers()]);
  const byName = new Map(providers.map((p) => [p.name, p]));
  const rows: Row[] = available.map((a) => ({ plugin: a, provider: byName.get(a.name) ?? null, name: a.name }));
  for (const p of providers) if (!available.some((a) => a.name === p.name)) rows.push({ plugin: null, provider: p, name: p.name });
  return rows;
}

export function ProvidersPage() {
  const { t } = useI18n();
  const state = useAsync(() => load(), []);
  const [editing, setEditing] = useState<Row | null>(null);
  const [addingCred, setAddingCred] = useState<Row | null>(null);
  const [addingCompatible, setAddingCompatible] = useState(false);
  const notice = useNotice();
  const picked = useSelection((state.data ?? []).flatMap((r) => (r.provider ? [r.provider.id] : [])));
  return (
    <section>
      <h1>{t("Providers and credentials")}</h1>
      <p className="muted">
        {t("Every installed provider plugin. Credentials are encrypted at rest and only ever shown masked.")}
      </p>
      <div className="row gap wrap filters">
        <button type="button" className="btn small" onClick={() => setAddingCompatible(true)}>
          {t("Add OpenAI-compatible endpoint")}
        </button>
        {(state.data ?? []).some((r) => r.provider) && (
          <label className="check small">
            <SelectAll selection={picked} label={t("Select all providers")} /> {t("Select all providers")}
          </label>
        )}
        <div className="spacer" />
        {state.data && <CheckAll rows={state.data} onDone={state.reload} />}
      </div>
      <Notice notice={notice} testId="providers-notice" />
      <BulkBar
        selection={picked}
        actions={[
          { label: t("Enable"), run: (id: number) => admin.updateProvider(id, { enabled: true }) },
          { label: t("Disable"), confirm: t("Disable {n} providers? Calls to their models stop at once."), run: (id: number) => admin.updateProvider(id, { enabled: false }) },
          { label: t("Delete"), danger: true, confirm: t("Delete {n} providers and their credentials?"), run: (id: number) => admin.deleteProvider(id) },
        ]}
        onDone={state.reload}
      />
      <AsyncView state={state}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>
              {t("No provider plugin is installed.")} <Link to="/console/plugins">{t("Plugins")}</Link>
            </Empty>
          ) : (
            <div className="cards">
              {rows.map((row) => (
                <ProviderCard
                  key={row.name}
                  row={row}
                  onChanged={state.reload}
                  notice={notice}
                  picked={picked}
                  onEdit={() => setEditing(row)}
                  onAddCredential={() => setAddingCred(row)}
                />
              ))}
            </div>
          )
        }
      </AsyncView>
      {editing && (
        <ProviderForm
          row={editing}
          onClose={() => setEditing(null)}
          onSaved={(p) => {
            notice.show(t(editing.provider ? "Provider {name} saved." : "Provider {name} added.", { name: p.displayName }));
            setEditing(null);
            state.reload();
          }}
        />
      )}
      {addingCompatible && (
        <CompatibleForm
          onClose={() => setAddingCompatible(false)}
          onSaved={(p) => {
            notice.show(t("Provider {name} added.", { name: p.displayName }));
            setAddingCompatible(false);
            state.reload();
          }}
        />
      )}
      {addingCred?.provider && (
        <CredentialForm
          provider={addingCred.provider}
          plugin={addingCred.plugin}
          onClose={() => setAddingCred(null)}
          onSaved={(c) => {
            notice.show(t("Credential {cred} added to {name}.", { cred: c.name, name: addingCred.provider!.displayName }));
            setAddingCred(null);
            state.reload();
          }}
        />
      )}
    </section>
  );
}

function firstModel(p: Provider | null): string | null {
  const models = p?.config?.models;
  return Array.isArray(models) && typeof models[0] === "string" ? models[0] : null;
}

/** Re-checks every stored credential through its vendor (one at a time, so a slow vendor does not pile up
 * requests) and says how many were accepted; refused ones are switched off with their error, as Re-check does. */
function CheckAll({ rows, onDone }: { rows: Row[]; onDone: () => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const creds = rows.flatMap((r) => (r.provider ? r.provider.credentials.map((c) => [r.provider!.id, c.id] as const) : []));
  return (
    <div className="row gap">
      <button
        type="button"
        className="btn small"
        disabled={busy || !creds.length}
        onClick={async () => {
          setBusy(true);
          setResult(null);
          let ok = 0;
          for (const [pid, cid] of creds) {
            try {
              await admin.checkCredential(pid, cid);
              ok++;
            } catch {
              // counted as refused; the list shows each one's error after the reload
            }
          }
          setResult(t("{ok} of {n} credentials valid", { ok, n: creds.length }));
          setBusy(false);
          onDone();
        }}
      >
        {busy ? t("Checking…") : t("Test all credentials")}
      </button>
      {result && (
        <span role="status" className="small" data-testid="check-all">
          {result}
        </span>
      )}
    </div>
  );
}

/** A credential the admin switched off is not failing: only inactive ones with an error count as failing. */
export function health(p: Provider): { tone: "ok" | "warn" | "bad" | "muted"; label: string } {
  if (!p.enabled) return { tone: "muted", label: "Disabled" };
  if (p.plugin && !p.pluginEnabled) return { tone: "warn", label: "Plugin disabled" };
  // an OpenAI-compatible endpoint may need no key (a local server): nothing to warn about
  if (!p.credentials.length) return { tone: p.kind === "openai_compatible" ? "muted" : "warn", label: "No credential" };
  const active = p.credentials.filter((c) => c.active);
  const failing = p.credentials.filter((c) => !c.active && c.error);
  if (!active.length) return failing.length ? { tone: "bad", label: "All credentials failing" } : { tone: "warn", label: "All credentials switched off" };
  if (failing.length) return { tone: "warn", label: "Some credentials failing" };
  return { tone: "ok", label: "Healthy" };
}

function ProviderCard({
  row,
  onChanged,
  notice,
  picked,
  onEdit,
  onAddCredential,
}: {
  row: Row;
  onChanged: () => void;
  notice: NoticeState;
  picked: Selection<number>;
  onEdit: () => void;
  onAddCredential: () => void;
}) {
  const { t } = useI18n();
  const action = useAction();
  const p = row.provider;
  const title = p?.displayName ?? row.plugin?.displayName ?? row.name;
  const h = p ? health(p) : null;
  const compatible = p?.kind === "openai_compatible";
  const testModel = row.plugin?.testModel ?? (compatible ? firstModel(p) : null);
  return (
    <article className="card provider" aria-label={title} data-provider={row.name}>
      <header className="card-head">
        <div>
          <div className="row gap">
            {p && <SelectRow selection={picked} id={p.id} label={t("Select provider {name}", { name: title })} />}
            <h2>{title}</h2>
          </div>
          <div className="muted small">
            <code>{row.name}</code>
            {row.plugin?.plugin && <> · {t("plugin")} {row.plugin.plugin}</>}
            {compatible && <> · {t("OpenAI-compatible endpoint")}</>}
            {row.plugin && <> · {row.plugin.capabilities.map((c) => t(c)).join(", ")}</>}
          </div>
        </div>
        {p ? (
          <div className="row gap">
            {h && <Badge tone={h.tone}>{t(h.label)}</Badge>}
            <Switch
              checked={p.enabled}
              label={t("Enable {name}", { name: title })}
              disabled={action.busy}
              onChange={(v) =>
                action.run(() => admin.updateProvider(p.id, { enabled: v })).then((r) => {
                  notice.show(r ? t(v ? "Provider {name} enabled." : "Provider {name} disabled.", { name: title }) : null);
                  onChanged();
                })
              }
            />
          </div>
        ) : (
          <Badge tone="muted">{t("Not configured")}</Badge>
        )}
      </header>
      {!row.plugin && !compatible && <p className="warn-text">{t("Its plugin is not installed, so calls to it fail.")}</p>}
      {p ? (
        <>
          <dl className="facts">
            <dt>{t("Base URL")}</dt>
            <dd>
              <code>{p.baseUrl ?? row.plugin?.defaultBaseUrl ?? "–"}</code>
            </dd>
            {p.region && (
              <>
                <dt>{t("Region")}</dt>
                <dd>{p.region}</dd>
              </>
            )}
          </dl>
          <CredentialTable provider={p} onChanged={onChanged} notice={notice} />
          <InlineError error={action.error} />
          <div className="row gap wrap">
            <button type="button" className="btn small primary" onClick={onAddCredential}>
              {t("Add credential")}
            </button>
            <button type="button" className="btn small" onClick={onEdit}>
              {t("Edit")}
            </button>
            {testModel && <TestButton provider={p} model={testModel} />}
            <ConfirmButton
              question={t("Delete provider {name} and its credentials?", { name: title })}
              onConfirm={() =>
                action.run(() => admin.deleteProvider(p.id)).then((r) => {
                  notice.show(r !== undefined ? t("Provider {name} deleted.", { name: title }) : null);
                  onChanged();
                })
              }
            >
              {t("Delete")}
            </ConfirmButton>
          </div>
        </>
      ) : (
        <div className="row gap">
          <button type="button" className="btn small primary" onClick={onEdit}>
            {t("Add {name}", { name: title })}
          </button>
        </div>
      )}
    </article>
  );
}

function CredentialTable({ provider, onChanged, notice }: { provider: Provider; onChanged: () => void; notice: NoticeState }) {
  const { t } = useI18n();
  const action = useAction();
  const [checked, setChecked] = useState<string | null>(null);
  const picked = useSelection(provider.credentials.map((c) => c.id));
  if (!provider.credentials.length) return <p className="muted small">{t("No credentials yet.")}</p>;
  return (
    <>
      <BulkBar
        selection={picked}
        actions={[
          { label: t("Activate"), run: (id: number) => admin.updateCredential(provider.id, id, { active: true }) },
          { label: t("Deactivate"), run: (id: number) => admin.updateCredential(provider.id, id, { active: false }) },
          { label: t("Delete"), danger: true, confirm: t("Delete {n} credentials?"), run: (id: number) => admin.deleteCredential(provider.id, id) },
        ]}
        onDone={onChanged}
      />
      <Table
        compact
        pick={<SelectAll selection={picked} label={t("Select all credentials of {name}", { name: provider.displayName })} />}
        caption={t("Credentials of {name}", { name: provider.displayName })}
        columns={[t("Name"), t("Value"), t("Weight"), t("Used"), t("Last used"), t("Active")]}
        actions
      >
        {provider.credentials.map((c: Credential) => (
          <tr key={c.id} data-credential={c.name}>
            <td className="pick">
              <SelectRow selection={picked} id={c.id} label={t("Select credential {name}", { name: c.name })} />
            </td>
            <td>{c.name}</td>
            <td>
              <code className="masked">{c.maskedValue}</code>
              {c.error && (
                <div className="error-text small" title={c.error}>
                  {t("Last error")}: {c.error}
                </div>
              )}
            </td>
            <td>{c.weight}</td>
            <td>{formatNumber(c.usageCount)}</td>
            <td>{formatDate(c.lastUsedAt)}</td>
            <td>
              <Switch
                checked={c.active}
                label={t("Credential {name} active", { name: c.name })}
                disabled={action.busy}
                onChange={(v) =>
                  action.run(() => admin.updateCredential(provider.id, c.id, { active: v })).then((r) => {
                    notice.show(r ? t(v ? "Credential {name} activated." : "Credential {name} deactivated.", { name: c.name }) : null);
                    onChanged();
                  })
                }
              />
            </td>
            <td className="row gap">
              <button
                type="button"
                className="btn small"
                disabled={action.busy}
                aria-label={t("Re-check credential {name}", { name: c.name })}
                onClick={async () => {
                  setChecked(null);
                  const result = await action.run(() => admin.checkCredential(provider.id, c.id));
                  if (result) setChecked(t("{name} is valid ({ms} ms)", { name: c.name, ms: Math.round(result.responseTime ?? 0) }));
                  onChanged(); // a refused credential was switched off with its error: show that too
                }}
              >
                {t("Re-check")}
              </button>
              <ConfirmButton
                question={t("Delete credential {name}?", { name: c.name })}
                label={t("Delete credential {name}", { name: c.name })}
                onConfirm={() =>
                  action.run(() => admin.deleteCredential(provider.id, c.id)).then((r) => {
                    notice.show(r !== undefined ? t("Credential {name} deleted.", { name: c.name }) : null);
                    onChanged();
                  })
                }
              >
                {t("Delete")}
              </ConfirmButton>
            </td>
          </tr>
        ))}
      </Table>
      {checked && !action.error && (
        <p role="status" className="ok-text small">
          {checked}
        </p>
      )}
      <InlineError error={action.error} />
    </>
  );
}

/** A real call through the hub with the plugin's cheap test model: proves routing, credential and upstream. */
function TestButton({ provider, model }: { provider: Provider; model: string }) {
  const { t } = useI18n();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <button
        type="button"
        className="btn small"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          const started = performance.now();
          try {
            await request("POST", "/v1/chat/completions", {
              model: `${provider.name}/${model}`,
              messages: [{ role: "user", content: "Hello, world!" }],
              max_tokens: 5,
            });
            setResult({ ok: true, text: t("Test call succeeded in {ms} ms", { ms: Math.round(performance.now() - started) }) });
          } catch (e) {
            setResult({ ok: false, text: errorMessage(e) });
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? t("Testing…") : t("Test")}
      </button>
      {result && (
        <span role="status" className={result.ok ? "ok-text small" : "error-text small"}>
          {result.text}
        </span>
      )}
    </>
  );
}

function ProviderForm({ row, onClose, onSaved }: { row: Row; onClose: () => void; onSaved: (p: Provider) => void }) {
  const { t } = useI18n();
  // Once Save has created the provider, a refused first credential leaves the dialog open on that provider:
  // Save again retries the credential (and updates the provider) instead of creating it twice (409).
  const [created, setCreated] = useState<Provider | null>(null);
  const existing = row.provider ?? created;
  const title = existing?.displayName ?? row.plugin?.displayName ?? row.name;
  const [displayName, setDisplayName] = useState(title);
  const [baseUrl, setBaseUrl] = useState(existing?.baseUrl ?? row.plugin?.defaultBaseUrl ?? "");
  const [region, setRegion] = useState(existing?.region ?? "");
  const [models, setModels] = useState(
    Array.isArray(existing?.config?.models) ? (existing.config.models as string[]).join(", ") : "",
  );
  const [cred, setCred] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<CheckOptions>({ verify: true, testModel: "" });
  const hasCred = Object.values(cred).some((v) => v.trim());
  const close = () => (created ? onSaved(created) : onClose()); // the list must show a provider created meanwhile
  return (
    <ModalForm
      title={row.provider ? t("Edit {name}", { name: title }) : t("Add {name}", { name: title })}
      submitLabel={t("Save")}
      onClose={close}
      submit={async () => {
        const modelList = models
          .split(/[,\n]/)
          .map((m) => m.trim())
          .filter(Boolean);
        const config = { ...(existing?.config ?? {}), models: modelList.length ? modelList : undefined };
        if (!modelList.length) delete config.models;
        const body = { displayName, baseUrl: baseUrl.trim() || null, region: region.trim() || null, config };
        if (row.provider) return admin.updateProvider(row.provider.id, body);
        const provider = created ? await admin.updateProvider(created.id, body) : await admin.createProvider({ name: row.name, enabled: true, ...body });
        setCreated(provider);
        if (hasCred) {
          try {
            await admin.addCredential(provider.id, { value: cleaned(cred), ...checkBody(check) });
          } catch (e) {
            throw credentialError(e, t("{name} was saved, but its credential was not:", { name: provider.displayName }), t);
          }
        }
        return provider;
      }}
      onDone={onSaved}
    >
      {created && (
        <p role="status" className="ok-text small">
          {t("{name} is saved. Fix the credential and save again, or close to add it later.", { name: created.displayName })}
        </p>
      )}
      <TextField label={t("Display name")} name="displayName" value={displayName} maxLength={100} required onValue={setDisplayName} />
      <TextField
        label={t("Base URL")}
        hint={row.plugin?.defaultBaseUrl ? t("Default: {url}", { url: row.plugin.defaultBaseUrl }) : undefined}
        name="baseUrl"
        type="url"
        value={baseUrl}
        placeholder="https://…"
        onValue={setBaseUrl}
      />
      <TextField label={t("Region")} hint={t("Only for providers that need one (e.g. Bedrock).")} name="region" value={region} maxLength={50} onValue={setRegion} />
      <TextField
        label={t("Models (optional)")}
        hint={t("Comma-separated. Leave empty to use the upstream's model list.")}
        name="models"
        value={models}
        onValue={setModels}
      />
      {!row.provider && (
        <fieldset>
          <legend>{t("First credential (optional)")}</legend>
          <p className="hint small">{t("Leave empty when the hub reads this provider's key from its environment.")}</p>
          <SchemaFields schema={row.plugin?.credentialSchema} values={cred} onChange={setCred} idPrefix={`new-${row.name}`} optional />
          {hasCred && <CheckFields value={check} onChange={setCheck} defaultModel={row.plugin?.testModel} />}
        </fieldset>
      )}
    </ModalForm>
  );
}

/** How a new credential is checked before it is stored: the live test call (on by default) and its model. */
interface CheckOptions {
  verify: boolean;
  testModel: string;
}

function checkBody(c: CheckOptions): { verify?: boolean; testModel?: string } {
  return c.verify ? (c.testModel.trim() ? { testModel: c.testModel.trim() } : {}) : { verify: false };
}

/** The API's `verify` and `testModel` options, so a browser user has what the error message offers. */
function CheckFields({ value, onChange, defaultModel }: { value: CheckOptions; onChange: (c: CheckOptions) => void; defaultModel?: string | null }) {
  const { t } = useI18n();
  return (
    <div className="check-options">
      <label className="check">
        <input type="checkbox" checked={!value.verify} onChange={(e) => onChange({ ...value, verify: !e.target.checked })} />{" "}
        {t("Save without the live check (offline or private upstreams)")}
      </label>
      {value.verify && (
        <TextField
          label={t("Test model (optional)")}
          hint={defaultModel ? t("Default: {model}", { model: defaultModel }) : undefined}
          name="testModel"
          value={value.testModel}
          maxLength={200}
          onValue={(testModel) => onChange({ ...value, testModel })}
        />
      )}
    </div>
  );
}

/** A refused credential's error in the console's words: the vendor's reason, and what the form offers. */
function credentialError(e: unknown, prefix: string, t: (s: string) => string): Error {
  if (!(e instanceof ApiError)) return e as Error;
  let text = e.message.replace(/\s*Save it without the check.*$/s, "");
  if (e.code === "credential_unverified") text = `${text} ${t("Tick “Save without the live check” to store it anyway, or try another test model.")}`;
  return new ApiError(e.status, e.code, prefix ? `${prefix} ${text}` : text);
}

function cleaned(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim()).map(([k, v]) => [k, v.trim()]));
}

function CredentialForm({
  provider,
  plugin,
  onClose,
  onSaved,
}: {
  provider: Provider;
  plugin: AvailableProvider | null;
  onClose: () => void;
  onSaved: (c: Credential) => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [weight, setWeight] = useState(100);
  const [values, setValues] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<CheckOptions>({ verify: true, testModel: "" });
  const fields = schemaFields(plugin?.credentialSchema);
  const credentialType = fields.some(([n]) => n === "access_key_id") ? "access_key_pair" : "api_key";
  return (
    <ModalForm
      title={t("Add credential to {name}", { name: provider.displayName })}
      submitLabel={t("Save credential")}
      onClose={onClose}
      submit={() =>
        admin
          .addCredential(provider.id, { name: name.trim() || undefined, value: cleaned(values), weight, credentialType, ...checkBody(check) })
          .catch((e) => {
            throw credentialError(e, "", t);
          })
      }
      onDone={onSaved}
    >
      <TextField label={t("Name")} hint={t("Optional; shown in lists and logs.")} name="name" value={name} maxLength={100} onValue={setName} />
      <SchemaFields schema={plugin?.credentialSchema} values={values} onChange={setValues} idPrefix={`cred-${provider.id}`} />
      <CredentialTestButton providerId={provider.id} values={cleaned(values)} />
      <CheckFields value={check} onChange={setCheck} defaultModel={plugin?.testModel} />
      <TextField
        label={t("Weight")}
        hint={t("Share of traffic among active credentials (1–10000).")}
        name="weight"
        type="number"
        min={1}
        max={10000}
        value={weight}
        onValue={(v) => setWeight(Number(v))}
      />
    </ModalForm>
  );
}

/** The provider's live test call with the typed value, before it is saved (nothing is stored). */
export function CredentialTestButton({ providerId, values }: { providerId: number; values: Record<string, string> }) {
  const { t } = useI18n();
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const empty = !Object.keys(values).length;
  return (
    <div className="row gap wrap">
      <button
        type="button"
        className="btn small"
        disabled={busy || empty}
        onClick={async () => {
          setBusy(true);
          setResult(null);
          try {
            const r = await admin.testCredential(providerId, values);
            const ms = Math.round(r.responseTime ?? 0);
            setResult({ ok: true, text: r.model ? t("Valid: {model} answered in {ms} ms", { model: r.model, ms }) : t("Valid") });
          } catch (e) {
            setResult({ ok: false, text: errorMessage(e) });
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? t("Testing…") : t("Test credential")}
      </button>
      {result && (
        <span role="status" className={result.ok ? "ok-text small" : "error-text small"}>
          {result.text}
        </span>
      )}
    </div>
  );
}
