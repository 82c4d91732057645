// The playground's chat request: its parameters (system prompt, temperature, max tokens, top-p, JSON mode,
// tools), the body sent to /v1/chat/completions, and the same request as curl, Python and JavaScript.
import { useState } from "react";
import { mountPath } from "../api";
import { useI18n } from "../i18n";
import { TextField } from "./forms";
import { CopyButton, Modal } from "./ui";

export interface ChatParams {
  system: string;
  temperature: string;
  maxTokens: string;
  topP: string;
  json: boolean;
  /** a JSON array of OpenAI tool definitions, as typed */
  tools: string;
}

export const DEFAULT_PARAMS: ChatParams = { system: "", temperature: "", maxTokens: "", topP: "", json: false, tools: "" };

export interface ChatMessage {
  role: string;
  content: string | null;
  tool_calls?: unknown[];
}

/** The typed tools as an array, or an error text; empty means no tools. */
export function parseTools(text: string): { tools?: unknown[]; error?: string } {
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text);
    if (!Array.isArray(v)) return { error: "Tools must be a JSON array of tool definitions." };
    return { tools: v };
  } catch (e) {
    return { error: `${(e as Error).message}` };
  }
}

/** Why the parameters cannot be sent, or null: numbers out of the API's ranges, tools that are not JSON. */
export function paramsError(p: ChatParams): string | null {
  const num = (v: string, lo: number, hi: number) => v.trim() === "" || (Number.isFinite(Number(v)) && Number(v) >= lo && Number(v) <= hi);
  if (!num(p.temperature, 0, 2)) return "Temperature must be between 0 and 2.";
  if (!num(p.topP, 0, 1)) return "Top-p must be between 0 and 1.";
  if (p.maxTokens.trim() && !(Number.isInteger(Number(p.maxTokens)) && Number(p.maxTokens) > 0)) return "Max tokens must be a whole number above 0.";
  return parseTools(p.tools).error ?? null;
}

/** The body of POST /v1/chat/completions: only the parameters that were set, so the model's defaults apply. */
export function chatBody(model: string, messages: ChatMessage[], p: ChatParams, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model,
    messages: [...(p.system.trim() ? [{ role: "system", content: p.system.trim() }] : []), ...messages],
  };
  if (p.temperature.trim()) body.temperature = Number(p.temperature);
  if (p.maxTokens.trim()) body.max_tokens = Number(p.maxTokens);
  if (p.topP.trim()) body.top_p = Number(p.topP);
  if (p.json) body.response_format = { type: "json_object" };
  const { tools } = parseTools(p.tools);
  if (tools?.length) body.tools = tools;
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

export function apiBase(): string {
  return `${window.location.origin}${mountPath()}/v1`;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The request as code a user can paste: the key comes from the AIGNE_HUB_KEY environment variable. */
export function snippets(body: Record<string, unknown>, base = apiBase()): Record<"curl" | "python" | "javascript", string> {
  const json = JSON.stringify(body, null, 2);
  const pyArgs = Object.entries(body)
    .map(([k, v]) => `    ${k}=${toPython(v, 4)},`)
    .join("\n");
  return {
    curl: `curl ${base}/chat/completions \\\n  -H "Authorization: Bearer $AIGNE_HUB_KEY" \\\n  -H "Content-Type: application/json" \\\n  -d ${shellQuote(json)}`,
    python: `import os\n\nfrom openai import OpenAI\n\nclient = OpenAI(base_url="${base}", api_key=os.environ["AIGNE_HUB_KEY"])\nresponse = client.chat.completions.create(\n${pyArgs}\n)\nprint(response.choices[0].message)\n`,
    javascript: `const response = await fetch("${base}/chat/completions", {\n  method: "POST",\n  headers: {\n    Authorization: \`Bearer \${process.env.AIGNE_HUB_KEY}\`,\n    "Content-Type": "application/json",\n  },\n  body: JSON.stringify(${json.replace(/\n/g, "\n  ")}),\n});\nconst data = await response.json();\nconsole.log(JSON.stringify(data.choices[0].message, null, 2));\n`,
  };
}

/** A JSON value written as a Python literal (True/False/None instead of true/false/null). */
function toPython(v: unknown, indent: number): string {
  const json = JSON.stringify(v, null, 2);
  return json
    .replace(/("(?:[^"\\]|\\.)*")|\b(true|false|null)\b/g, (_m, str: string | undefined, word: string | undefined) =>
      str ? str : word === "true" ? "True" : word === "false" ? "False" : "None",
    )
    .replace(/\n/g, `\n${" ".repeat(indent)}`);
}

export function ParamsPanel({ value, onChange }: { value: ChatParams; onChange: (p: ChatParams) => void }) {
  const { t } = useI18n();
  const set = (k: keyof ChatParams) => (v: string) => onChange({ ...value, [k]: v });
  const error = paramsError(value);
  return (
    <details className="params" open={Object.entries(value).some(([k, v]) => k !== "system" && v !== "" && v !== false) || undefined}>
      <summary>{t("System prompt and parameters")}</summary>
      <div className="params-body">
        <label className="field">
          <span className="field-label">{t("System prompt")}</span>
          <textarea name="system" rows={2} value={value.system} onChange={(e) => set("system")(e.target.value)} />
        </label>
        <div className="grid3">
          <TextField label={t("Temperature")} hint={t("0–2; empty: the model's default")} name="temperature" inputMode="decimal" value={value.temperature} onValue={set("temperature")} />
          <TextField label={t("Max tokens")} name="maxTokens" inputMode="numeric" value={value.maxTokens} onValue={set("maxTokens")} />
          <TextField label={t("Top-p")} hint={t("0–1")} name="topP" inputMode="decimal" value={value.topP} onValue={set("topP")} />
        </div>
        <label className="check">
          <input type="checkbox" checked={value.json} onChange={(e) => onChange({ ...value, json: e.target.checked })} /> {t("JSON mode")}
        </label>
        <label className="field">
          <span className="field-label">{t("Tools (JSON array)")}</span>
          <textarea
            name="tools"
            rows={3}
            spellCheck={false}
            placeholder='[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}]'
            value={value.tools}
            onChange={(e) => set("tools")(e.target.value)}
          />
        </label>
        {error && (
          <p className="inline-error" role="alert">
            {t(error)}
          </p>
        )}
      </div>
    </details>
  );
}

/** "Code": the current request as curl, Python (the openai SDK) or JavaScript (fetch), each with a copy button. */
export function CodeButton({ body }: { body: () => Record<string, unknown> }) {
  const { t } = useI18n();
  const [open, setOpen] = useState<Record<string, string> | null>(null);
  const [lang, setLang] = useState<"curl" | "python" | "javascript">("curl");
  const names: ["curl" | "python" | "javascript", string][] = [
    ["curl", "curl"],
    ["python", "Python"],
    ["javascript", "JavaScript"],
  ];
  return (
    <>
      <button type="button" className="btn" onClick={() => setOpen(snippets(body()))}>
        {t("Code")}
      </button>
      {open && (
        <Modal title={t("This request as code")} onClose={() => setOpen(null)}>
          <p className="muted small">{t("Set AIGNE_HUB_KEY to one of your access keys first.")}</p>
          <div role="tablist" aria-label={t("Language")} className="tabs">
            {names.map(([id, label]) => (
              <button key={id} type="button" role="tab" aria-selected={lang === id} className={lang === id ? "active" : ""} onClick={() => setLang(id)}>
                {label}
              </button>
            ))}
          </div>
          <div className="code-block">
            <pre>
              <code data-testid={`code-${lang}`}>{open[lang]}</code>
            </pre>
            <CopyButton text={open[lang]} label={t("Copy as {lang}", { lang: names.find(([id]) => id === lang)![1] })} />
          </div>
        </Modal>
      )}
    </>
  );
}
