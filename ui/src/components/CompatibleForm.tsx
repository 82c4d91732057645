// "Add OpenAI-compatible endpoint": any server that speaks OpenAI's API (vLLM, LM Studio, Together, Groq ...)
// added by name, without a plugin: base URL, optional key, a model list or the endpoint's own (Discover).
import { useState } from "react";
import { admin, type Provider } from "../api";
import { useI18n } from "../i18n";
import { ModalForm, TextField } from "./forms";
import { errorMessage } from "./ui";

export function splitModels(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((m) => m.trim())
    .filter(Boolean);
}

export function CompatibleForm({ onClose, onSaved }: { onClose: () => void; onSaved: (p: Provider) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [models, setModels] = useState("");
  const [verify, setVerify] = useState(true);
  const [found, setFound] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const discover = async () => {
    setBusy(true);
    setFound(null);
    try {
      const answer = await admin.discoverModels({ baseUrl: baseUrl.trim(), apiKey: apiKey.trim() || undefined });
      setModels(answer.models.join(", "));
      setFound({ ok: true, text: t("{count} models found", { count: answer.models.length }) });
    } catch (e) {
      setFound({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <ModalForm<Provider>
      title={t("Add OpenAI-compatible endpoint")}
      submitLabel={t("Save")}
      onClose={onClose}
      submit={() =>
        admin.createCompatible({
          kind: "openai_compatible",
          name: name.trim(),
          displayName: displayName.trim() || undefined,
          baseUrl: baseUrl.trim(),
          apiKey: apiKey.trim() || undefined,
          models: splitModels(models),
          verify,
        })
      }
      onDone={onSaved}
    >
      <p className="hint small">{t("Any server that speaks OpenAI's API, served as NAME/model without a plugin.")}</p>
      <TextField
        label={t("Name")}
        hint={t("Lower-case letters, digits, '-', '_' or '.': the NAME of NAME/model.")}
        name="name"
        value={name}
        maxLength={50}
        pattern="[a-z0-9][a-z0-9_.\-]*"
        required
        onValue={setName}
      />
      <TextField label={t("Display name (optional)")} name="displayName" value={displayName} maxLength={100} onValue={setDisplayName} />
      <TextField
        label={t("Base URL")}
        hint={t("The API root, usually ending in /v1.")}
        name="baseUrl"
        type="url"
        value={baseUrl}
        placeholder="http://localhost:8000/v1"
        required
        onValue={setBaseUrl}
      />
      <TextField label={t("API key (optional)")} name="apiKey" type="password" autoComplete="off" value={apiKey} onValue={setApiKey} />
      <TextField
        label={t("Models (optional)")}
        hint={t("Comma-separated. Leave empty to use the upstream's model list.")}
        name="models"
        value={models}
        onValue={setModels}
      />
      <div className="row gap">
        <button type="button" className="btn small" disabled={busy || !baseUrl.trim()} onClick={discover}>
          {busy ? t("Asking…") : t("Discover models")}
        </button>
        {found && (
          <span role="status" className={found.ok ? "ok-text small" : "error-text small"}>
            {found.text}
          </span>
        )}
      </div>
      <label className="check">
        <input type="checkbox" checked={verify} onChange={(e) => setVerify(e.target.checked)} />
        {t("Check the endpoint before saving")}
      </label>
    </ModalForm>
  );
}
