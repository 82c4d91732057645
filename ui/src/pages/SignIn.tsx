import { useState } from "react";
import { useAuth } from "../auth";
import { useI18n } from "../i18n";
import { Link, useRouter } from "../router";
import { InlineError, useAction } from "../components/ui";

export function SignInPage() {
  const { signIn } = useAuth();
  const { t, lang, setLang } = useI18n();
  const { navigate, query } = useRouter();
  const [key, setKey] = useState("");
  const action = useAction();
  return (
    <div className="signin-wrap">
      <form
        className="card signin"
        aria-labelledby="signin-title"
        onSubmit={async (e) => {
          e.preventDefault();
          const s = await action.run(() => signIn(key.trim()));
          if (!s) return;
          const next = query.get("next");
          navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : s.isAdmin ? "/console" : "/account", {
            replace: true,
          });
        }}
      >
        <div className="signin-head">
          <img src="./favicon.svg" alt="" width={40} height={40} />
          <h1 id="signin-title">{t("Sign in to AIGNE Hub")}</h1>
        </div>
        <p className="muted">
          {t("Use an access key. On the first start the hub prints the owner's admin key in its log.")}
        </p>
        <label className="field">
          <span className="field-label">{t("Access key")}</span>
          <input
            name="key"
            type="password"
            autoComplete="current-password"
            placeholder="ahk-…"
            value={key}
            required
            autoFocus
            onChange={(e) => setKey(e.target.value)}
          />
        </label>
        <InlineError error={action.error} />
        <button type="submit" className="btn primary block" disabled={action.busy || !key.trim()}>
          {action.busy ? t("Signing in…") : t("Sign in")}
        </button>
        <div className="signin-foot">
          <Link to="/pricing">{t("Pricing")}</Link>
          <button type="button" className="btn ghost small" onClick={() => setLang(lang === "en" ? "zh" : "en")}>
            {lang === "en" ? "中文" : "English"}
          </button>
        </div>
      </form>
    </div>
  );
}
