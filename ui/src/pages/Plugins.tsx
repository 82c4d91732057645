// Every discovered plugin with version, kind, what it registered, status and load error; the switch takes
// effect on the hub's next request (no restart).
import { admin, type PluginInfo } from "../api";
import { useI18n } from "../i18n";
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
  return (
    <section>
      <h1>{t("Plugins")}</h1>
      <p className="muted">
        {t("Plugins are discovered from installed packages. Turning one off takes effect on the next request; built-in defaults can be replaced by installing another plugin.")}
      </p>
      <InlineError error={action.error} />
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
                    }}
                  />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </AsyncView>
    </section>
  );
}
