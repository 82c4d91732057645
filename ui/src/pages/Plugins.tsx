// Every discovered plugin with version, kind, what it registered, status and load error; the switch takes
// effect on the hub's next request (no restart).
import { useState } from "react";
import { admin, type ConfigSchema, type ConfigValues, type PluginInfo } from "../api";
import { useI18n } from "../i18n";
import { ModalForm } from "../components/forms";
import { Notice, useNotice } from "../components/notice";
import { AsyncView, Badge, InlineError, Switch, Table, useAction, useAsync } from "../components/ui";

function statusTone(p: PluginInfo): "ok" | "warn" | "bad" | "muted" {
  if (p.error || p.status === "failed") return "bad";
  if (p.status === "enabled") return "ok";
  return "muted";
}

function registeredText(reg: PluginInfo["registered"]): string {
  if (!reg) return "–";
  if (Array.isArray(reg)) return reg.join(", ") || "–";
  const parts = Object.entries(reg)
    .filter(([, v]) => (Array.isArray(v) ? v.length : v))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`);
  return parts.join("; ") || "–";
}

export function PluginsPage() {
  const { t } = useI18n();
  const state = useAsync(() => admin.plugins(), []);
  const action = useAction();
  const [configuring, setConfiguring] = useState<PluginInfo | null>(null);
  const notice = useNotice();
  return (
    <section>
      <h1>{t("Plugins")}</h1>
      <p className="muted">
        {t("Plugins are discovered from installed packages. Turning one off takes effect on the next request; built-in defaults can be replaced by installing another plugin.")}
      </p>
      <InlineError error={action.error} />
      <Notice notice={notice} testId="plugins-notice" />
      <AsyncView state={state}>
        {(plugins) => (
          <Table columns={[t("Plugin"), t("Version"), t("Kind"), t("Registered"), t("Hooks"), t("Status"), t("Enabled")]}>
            {plugins.map((p) => (
              <tr key={p.name} data-plugin={p.name}>
                <td>
                  <strong>{p.name}</strong>
                  {p.distribution && <div className="muted small">{p.distribution}</div>}
                </td>
                <td>{p.version ?? "–"}</td>
                <td>
                  {t(p.kind)}
                  {p.builtin && <div className="muted small">{t("built-in")}</div>}
                </td>
                <td className="small">{registeredText(p.registered)}</td>
                <td className="small hooks">{p.hooks.join(", ") || "–"}</td>
                <td>
                  <Badge tone={statusTone(p)}>{t(p.status)}</Badge>
                  {p.error && (
                    <div className="error-text small" role="note">
                      {p.error}
                    </div>
                  )}
                </td>
                <td>
                  <Switch
                    checked={p.enabled}
                    disabled={action.busy || p.status === "failed"}
                    label={t("Enable plugin {name}", { name: p.name })}
                    onChange={async (v) => {
                      const updated = await action.run(() => admin.setPlugin(p.name, v));
                      if (updated) state.setData(plugins.map((x) => (x.name === p.name ? updated : x)));
                      notice.show(updated ? t(v ? "Plugin {name} enabled; it applies from the next request." : "Plugin {name} disabled; it applies from the next request.", { name: p.name }) : null);
                    }}
                  />
                  {p.configSchema && (
                    <button
                      type="button"
                      className="btn small"
                      aria-label={t("Settings of {name}", { name: p.name })}
                      onClick={() => setConfiguring(p)}
                    >
                      {t("Settings")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </AsyncView>
      {configuring && <PluginSettings plugin={configuring} onClose={() => setConfiguring(null)} />}
    </section>
  );
}

/** The plugin's settings, a form drawn from its `config_schema`; the hub validates and applies them at once. */
export function PluginSettings({ plugin, onClose }: { plugin: PluginInfo; onClose: () => void }) {
  const { t } = useI18n();
  const state = useAsync(() => admin.pluginConfig(plugin.name), [plugin.name]);
  return (
    <AsyncView state={state}>
      {(config) => (
        <SettingsForm
          name={plugin.name}
          schema={config.schema}
          secret={new Set(config.secretFields ?? [])}
          initial={config.values}
          onClose={onClose}
          title={t("Settings of {name}", { name: plugin.name })}
        />
      )}
    </AsyncView>
  );
}

type Draft = Record<string, string | boolean>;

function SettingsForm({
  name,
  schema,
  secret,
  initial,
  title,
  onClose,
}: {
  name: string;
  schema: ConfigSchema;
  secret: Set<string>;
  initial: ConfigValues;
  title: string;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const props = Object.entries(schema.properties);
  const required = new Set(schema.required ?? []);
  const [draft, setDraft] = useState<Draft>(() =>
    // a secret's input starts empty: the hub only ever sends it masked, and an empty secret is kept as stored
    Object.fromEntries(props.map(([k, p]) => [k, p.type === "boolean" ? Boolean(initial[k] ?? p.default ?? false) : initial[k] == null || secret.has(k) ? "" : String(initial[k])])),
  );
  const [saved, setSaved] = useState(false);
  return (
    <ModalForm
      title={title}
      submitLabel={t("Save settings")}
      onClose={onClose}
      submit={() => admin.setPluginConfig(name, toValues(schema, draft, secret))}
      onDone={() => setSaved(true)}
    >
      {props.map(([key, p]) => {
        const id = `plugin-${name}-${key}`;
        const label = p.title ?? key;
        const hint = [p.description, p.default !== undefined ? t("Default: {value}", { value: String(p.default) }) : ""].filter(Boolean).join(" ");
        const set = (v: string | boolean) => {
          setSaved(false);
          setDraft({ ...draft, [key]: v });
        };
        return (
          <div className="field" key={key}>
            <label htmlFor={id}>
              <span className="field-label">
                {label}
                {required.has(key) && <span aria-hidden="true"> *</span>}
              </span>
            </label>
            {p.type === "boolean" ? (
              <input id={id} name={key} type="checkbox" checked={Boolean(draft[key])} onChange={(e) => set(e.target.checked)} />
            ) : p.enum ? (
              <select id={id} name={key} value={String(draft[key])} required={required.has(key)} onChange={(e) => set(e.target.value)}>
                <option value="">{t("(default)")}</option>
                {p.enum.map((v) => (
                  <option key={String(v)} value={String(v)}>
                    {String(v)}
                  </option>
                ))}
              </select>
            ) : secret.has(key) ? (
              <input
                id={id}
                name={key}
                type="password"
                autoComplete="new-password"
                placeholder={initial[key] != null ? t("Stored ({masked}); leave empty to keep it", { masked: String(initial[key]) }) : t("Not set")}
                required={required.has(key) && initial[key] == null}
                value={String(draft[key])}
                onChange={(e) => set(e.target.value)}
              />
            ) : (
              <input
                id={id}
                name={key}
                type={p.type === "number" || p.type === "integer" ? "number" : "text"}
                step={p.type === "integer" ? 1 : p.type === "number" ? "any" : undefined}
                required={required.has(key) && p.default === undefined}
                value={String(draft[key])}
                onChange={(e) => set(e.target.value)}
              />
            )}
            {hint && <small className="hint">{hint}</small>}
          </div>
        );
      })}
      {saved && (
        <p role="status" className="ok-text small">
          {t("Settings saved; every hub instance applies them on its next request.")}
        </p>
      )}
    </ModalForm>
  );
}

/** Form text back to JSON values of the schema's types; an empty field is sent as null (default applies),
 * except an empty secret, which is left out so the hub keeps the stored one. */
export function toValues(schema: ConfigSchema, draft: Draft, secret: Set<string> = new Set()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(schema.properties)) {
    const v = draft[key];
    if (secret.has(key) && (v === "" || v === undefined)) continue;
    if (p.type === "boolean") out[key] = Boolean(v);
    else if (v === "" || v === undefined) out[key] = null;
    else if (p.type === "number" || p.type === "integer") out[key] = Number(v);
    else if (p.enum && typeof p.enum[0] === "number") out[key] = Number(v);
    else out[key] = v;
  }
  return out;
}
