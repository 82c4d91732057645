// What is configured and what is missing, each with a link to the page that fixes it.
import { admin, isNotAvailable, mountPath, openai } from "../api";
import { billing, type BillingConfig } from "../billing";
import { useI18n } from "../i18n";
import { Link } from "../router";
import { AsyncView, CopyButton, useAsync } from "../components/ui";

interface Step {
  done: boolean | null; // null: optional / not applicable
  title: string;
  detail: string;
  to: string;
  action: string;
}

async function loadOverview() {
  const [available, providers, plugins, models, rates] = await Promise.all([
    admin.availableProviders(),
    admin.providers(),
    admin.plugins(),
    openai.models().catch(() => ({ data: [] })),
    billing.config().catch((e) => {
      if (isNotAvailable(e)) return null;
      throw e;
    }),
  ]);
  return { available, providers, plugins, models: models.data, billingConfig: rates };
}

function billingStep(config: BillingConfig | null, t: (s: string, v?: Record<string, string | number>) => string): Step {
  const mode = config?.modes.find((m) => m.name === config.active);
  if (!config || !mode || !mode.charges) {
    return {
      done: null,
      title: t("Billing (optional)"),
      detail: t("No charging mode is active: every call is metered in the usage log, nothing is charged."),
      to: "/console/credits",
      action: t("Credits"),
    };
  }
  return {
    done: config.rates > 0,
    title: t("Model rates for {mode}", { mode: mode.displayName }),
    detail: config.rates
      ? t("{n} model rates configured.", { n: config.rates })
      : t("Calls to models without a rate are refused in this mode: add rates."),
    to: "/console/models",
    action: t("Models and rates"),
  };
}

export function QuickStartPage() {
  const { t } = useI18n();
  const state = useAsync(() => loadOverview(), []);
  return (
    <section>
      <h1>{t("Quick start")}</h1>
      <p className="muted">{t("What is configured on this hub and what is still missing.")}</p>
      <AsyncView state={state}>
        {(d) => {
          // an OpenAI-compatible endpoint without keys (a local server) is usable as it is
          const keyless = (p: (typeof d.providers)[number]) => p.kind === "openai_compatible" && !p.credentials.length;
          const usable = d.providers.filter((p) => p.enabled && p.pluginEnabled && (keyless(p) || p.credentials.some((c) => c.active)));
          const endpoints = d.providers.filter((p) => p.kind === "openai_compatible");
          const failed = d.plugins.filter((p) => p.error || p.status === "failed");
          const steps: Step[] = [
            {
              done: d.available.length > 0 || endpoints.length > 0,
              title: t("Install a provider plugin"),
              detail: d.available.length
                ? t("Installed: {names}", { names: d.available.map((a) => a.displayName).join(", ") })
                : t("No provider plugin is installed. Install one, e.g. aigne-hub-provider-openai."),
              to: "/console/plugins",
              action: t("Plugins"),
            },
            {
              done: usable.length > 0,
              title: t("Configure a provider with a credential"),
              detail: usable.length
                ? t("Ready: {names}", { names: usable.map((p) => p.displayName).join(", ") })
                : t("Add a provider and its API key so the hub can route calls."),
              to: "/console/providers",
              action: t("Providers"),
            },
            {
              done: d.models.length > 0,
              title: t("Models are available"),
              detail: t("{n} models can be called through /v1 and the AIGNE API.", { n: d.models.length }),
              to: "/playground",
              action: t("Playground"),
            },
            {
              done: failed.length === 0,
              title: t("All plugins loaded"),
              detail: failed.length
                ? t("Failed to load: {names}", { names: failed.map((p) => p.name).join(", ") })
                : t("{n} plugins, none failed.", { n: d.plugins.length }),
              to: "/console/plugins",
              action: t("Plugins"),
            },
            billingStep(d.billingConfig, t),
            {
              done: null,
              title: t("Create access keys for your apps and users"),
              detail: t("Each app or person should use its own key, so usage is attributed and keys can be revoked."),
              to: "/console/users",
              action: t("Users and keys"),
            },
          ];
          const base = `${window.location.origin}${mountPath()}`;
          const example = d.models.find((m) => usable.some((p) => m.id.startsWith(`${p.name}/`))) ?? d.models[0];
          const snippet = `curl ${base}/v1/chat/completions \\\n  -H "Authorization: Bearer $AIGNE_HUB_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d '{"model": "${example?.id ?? "openai/gpt-4o-mini"}", "messages": [{"role": "user", "content": "Hello"}]}'`;
          return (
            <>
              <ol className="steps">
                {steps.map((s) => (
                  <li key={s.title} className={s.done === null ? "optional" : s.done ? "done" : "todo"}>
                    <span className="step-mark" aria-label={s.done === null ? t("optional") : s.done ? t("done") : t("to do")}>
                      {s.done === null ? "○" : s.done ? "✓" : "!"}
                    </span>
                    <div>
                      <strong>{s.title}</strong>
                      <p>{s.detail}</p>
                    </div>
                    <Link to={s.to} className="btn small">
                      {s.action}
                    </Link>
                  </li>
                ))}
              </ol>
              <h2>{t("Call the hub")}</h2>
              <p className="muted">{t("Any OpenAI-compatible client works: set its base URL to {url}.", { url: `${base}/v1` })}</p>
              <div className="code-block">
                <pre>
                  <code>{snippet}</code>
                </pre>
                <CopyButton text={snippet} />
              </div>
            </>
          );
        }}
      </AsyncView>
    </section>
  );
}
