// Try models through the hub's own APIs: streaming chat (stop button, history kept in this browser), image
// generation, embeddings (OpenAI-compatible) and video (the AIGNE API's job, which the hub runs to the end);
// each answer shows its tokens or length, latency and (when billed) cost. No audio tab: the hub has no audio API.
import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError, admin, openai, raw } from "../api";
import { Link } from "../router";
import { useAuth } from "../auth";
import { billing } from "../billing";
import { formatNumber, useI18n } from "../i18n";
import { readEvents } from "../sse";
import { CodeButton, DEFAULT_PARAMS, ParamsPanel, chatBody, paramsError, type ChatMessage, type ChatParams } from "../components/chatRequest";
import { AsyncView, Empty, InlineError, errorMessage, useAction, useAsync } from "../components/ui";

export type ModelType = "chat" | "image" | "embedding" | "video";
export interface PlaygroundModel {
  id: string;
  provider: string;
  type: ModelType;
}

export function guessType(id: string): ModelType {
  const m = id.toLowerCase();
  if (m.includes("embed")) return "embedding";
  if (m.includes("sora") || m.includes("veo")) return "video";
  if (m.includes("dall-e") || m.includes("image") || m.includes("imagen") || m.includes("flux")) return "image";
  return "chat";
}

function normType(type: string | undefined): ModelType | null {
  if (!type) return null;
  if (type.startsWith("image")) return "image";
  if (type.startsWith("embed")) return "embedding";
  if (type.startsWith("chat")) return "chat";
  if (type.startsWith("video")) return "video";
  return null;
}

async function loadModels(): Promise<PlaygroundModel[]> {
  const [list, publicList] = await Promise.all([openai.models(), billing.publicModels().catch(() => [])]);
  const types = new Map<string, ModelType>();
  for (const p of Array.isArray(publicList) ? publicList : []) {
    const ty = normType(p.type);
    if (ty) types.set(p.key, ty);
  }
  return list.data.map((m) => ({
    id: m.id,
    provider: m.owned_by || m.id.split("/")[0],
    type: types.get(m.id) ?? guessType(m.id),
  }));
}

export function groupByProvider(models: PlaygroundModel[]): [string, PlaygroundModel[]][] {
  const groups = new Map<string, PlaygroundModel[]>();
  for (const m of models) groups.set(m.provider, [...(groups.get(m.provider) ?? []), m]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

export function PlaygroundPage() {
  const { t } = useI18n();
  const { session } = useAuth();
  const models = useAsync(() => loadModels(), []);
  const [tab, setTab] = useState<ModelType>("chat");
  const storeKey = `aigne-hub:playground:${session?.user.id ?? "anon"}`;
  const [model, setModel] = useState<string>(() => localStorage.getItem(`${storeKey}:model:chat`) ?? "");
  const ofType = useMemo(() => (models.data ?? []).filter((m) => m.type === tab), [models.data, tab]);

  useEffect(() => {
    const saved = localStorage.getItem(`${storeKey}:model:${tab}`);
    if (ofType.some((m) => m.id === saved)) setModel(saved!);
    else if (!ofType.some((m) => m.id === model)) setModel(ofType[0]?.id ?? "");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ofType, tab, storeKey]);

  const choose = (id: string) => {
    setModel(id);
    localStorage.setItem(`${storeKey}:model:${tab}`, id);
  };

  const tabs: [ModelType, string][] = [
    ["chat", t("Chat")],
    ["image", t("Image")],
    ["embedding", t("Embeddings")],
    ["video", t("Video")],
  ];
  return (
    <section className="playground">
      <h1>{t("Playground")}</h1>
      <div className="row gap wrap playground-bar">
        <div role="tablist" aria-label={t("Mode")} className="tabs">
          {tabs.map(([id, label]) => (
            <button key={id} type="button" role="tab" aria-selected={tab === id} className={tab === id ? "active" : ""} onClick={() => setTab(id)}>
              {label}
            </button>
          ))}
        </div>
        <label className="model-picker">
          <span>{t("Model")}</span>
          <select aria-label={t("Model")} value={model} onChange={(e) => choose(e.target.value)} disabled={!ofType.length}>
            {groupByProvider(ofType).map(([provider, ms]) => (
              <optgroup key={provider} label={provider}>
                {ms.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.id.slice(provider.length + 1) || m.id}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
      </div>
      <AsyncView state={models}>
        {() =>
          !ofType.length ? (
            <NoModels type={tab} />
          ) : tab === "chat" ? (
            <Chat model={model} storeKey={`${storeKey}:history`} />
          ) : tab === "image" ? (
            <ImageGen model={model} />
          ) : tab === "video" ? (
            <VideoGen model={model} />
          ) : (
            <Embeddings model={model} />
          )
        }
      </AsyncView>
    </section>
  );
}

/** Why a tab has no models, in terms of what the reader can do: admins get the reason (no provider, a plugin
 * switched off, no provider serving this type) and a link; members are told to ask an administrator. */
function NoModels({ type }: { type: ModelType }) {
  const { t } = useI18n();
  const { session } = useAuth();
  const isAdmin = !!session?.isAdmin;
  const why = useAsync(async () => {
    if (!isAdmin) return null;
    const [available, providers] = await Promise.all([admin.availableProviders(), admin.providers()]);
    const serving = available.filter((a) => a.capabilities.includes(type));
    const configured = providers.filter((p) => serving.some((a) => a.name === p.name));
    const pluginOff = configured.filter((p) => !p.pluginEnabled || !serving.find((a) => a.name === p.name)?.pluginEnabled);
    return { providers: providers.length, configured, pluginOff };
  }, [isAdmin, type]);
  const kind = t(type);
  if (!isAdmin) return <Empty>{t("No {type} models are available on this hub. Ask an administrator.", { type: kind })}</Empty>;
  const w = why.data;
  if (!w) return <Empty>{t("No {type} models are available.", { type: kind })}</Empty>;
  if (w.pluginOff.length)
    return (
      <Empty>
        {t("{names} serves {type} models, but its plugin is switched off.", { names: w.pluginOff.map((p) => p.displayName).join(", "), type: kind })}{" "}
        <Link to="/console/plugins">{t("Plugins")}</Link>
      </Empty>
    );
  if (!w.providers)
    return (
      <Empty>
        {t("No provider is configured yet.")} <Link to="/console/providers">{t("Configure a provider")}</Link>
      </Empty>
    );
  if (w.configured.length)
    return (
      <Empty>
        {t("{names} can serve {type} models, but none is listed: check its model list and credentials.", {
          names: w.configured.map((p) => p.displayName).join(", "),
          type: kind,
        })}{" "}
        <Link to="/console/providers">{t("Providers")}</Link>
      </Empty>
    );
  return (
    <Empty>
      {t("None of the configured providers serves {type} models.", { type: kind })} <Link to="/console/providers">{t("Providers")}</Link>
    </Empty>
  );
}

interface Message {
  role: "user" | "assistant" | "system";
  content: string;
  /** tool calls the model asked for, as streamed (name and JSON arguments) */
  toolCalls?: { id?: string; name: string; arguments: string }[];
  model?: string;
  meta?: { inputTokens?: number; outputTokens?: number; ttfbMs?: number; totalMs?: number; credits?: string | null; error?: string; stopped?: boolean };
}

/** The conversation as the API takes it: failed answers left out; a tool call the playground cannot answer is
 * passed back as text (an assistant message with tool_calls must be followed by the tools' results). */
function toApi(history: Message[]): ChatMessage[] {
  return history
    .filter((m) => !m.meta?.error)
    .map((m) => ({
      role: m.role,
      content: m.content || (m.toolCalls ?? []).map((c) => `[tool call] ${c.name}(${c.arguments})`).join("\n"),
    }));
}

function loadParams(key: string): ChatParams {
  try {
    return { ...DEFAULT_PARAMS, ...JSON.parse(localStorage.getItem(`${key}:params`) ?? "{}") };
  } catch {
    return DEFAULT_PARAMS;
  }
}

function loadHistory(key: string): Message[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(parsed) ? parsed.slice(-200) : [];
  } catch {
    return [];
  }
}

function Chat({ model, storeKey }: { model: string; storeKey: string }) {
  const { t } = useI18n();
  const [messages, setMessages] = useState<Message[]>(() => loadHistory(storeKey));
  const [input, setInput] = useState("");
  const [params, setParams] = useState<ChatParams>(() => loadParams(storeKey));
  const [streaming, setStreaming] = useState(false);
  const ctrl = useRef<AbortController | null>(null);
  const endRef = useRef<HTMLDivElement>(null);

  useEffect(() => localStorage.setItem(`${storeKey}:params`, JSON.stringify(params)), [params, storeKey]);
  useEffect(() => {
    localStorage.setItem(storeKey, JSON.stringify(messages.slice(-200)));
    endRef.current?.scrollIntoView?.({ block: "nearest" });
  }, [messages, storeKey]);

  const send = async () => {
    const text = input.trim();
    if (!text || streaming || !model || paramsError(params)) return;
    const history: Message[] = [...messages, { role: "user", content: text }];
    const answer: Message = { role: "assistant", content: "", model, meta: {} };
    setMessages([...history, answer]);
    setInput("");
    setStreaming(true);
    const controller = new AbortController();
    ctrl.current = controller;
    const started = performance.now();
    const update = (patch: Partial<Message>, meta?: Message["meta"]) =>
      setMessages((ms) => {
        const copy = [...ms];
        const last = copy[copy.length - 1];
        copy[copy.length - 1] = { ...last, ...patch, meta: { ...last.meta, ...meta } };
        return copy;
      });
    let content = "";
    const toolCalls: NonNullable<Message["toolCalls"]> = [];
    try {
      const resp = await raw("POST", "/v1/chat/completions", chatBody(model, toApi(history), params, true), {
        signal: controller.signal,
        headers: { Accept: "text/event-stream" },
      });
      const credits = resp.headers.get("x-aigne-hub-credits") ?? resp.headers.get("x-credits-used");
      let ttfb: number | undefined;
      for await (const ev of readEvents(resp.body!)) {
        if (ev.data === "[DONE]") break;
        const chunk = JSON.parse(ev.data);
        if (chunk.error) throw new ApiError(502, chunk.error.code ?? "stream_error", chunk.error.message ?? "stream error");
        const calls = chunk.choices?.[0]?.delta?.tool_calls as { index?: number; id?: string; function?: { name?: string; arguments?: string } }[] | undefined;
        if (calls?.length) {
          for (const c of calls) {
            const i = c.index ?? 0;
            const prev = toolCalls[i] ?? { id: c.id, name: "", arguments: "" };
            toolCalls[i] = { id: prev.id ?? c.id, name: prev.name + (c.function?.name ?? ""), arguments: prev.arguments + (c.function?.arguments ?? "") };
          }
          ttfb ??= performance.now() - started;
          update({ toolCalls: [...toolCalls] }, { ttfbMs: ttfb });
        }
        const delta = chunk.choices?.[0]?.delta?.content ?? "";
        if (delta) {
          ttfb ??= performance.now() - started;
          content += delta;
          update({ content }, { ttfbMs: ttfb });
        }
        if (chunk.usage) update({}, { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens });
      }
      update({}, { totalMs: performance.now() - started, credits });
      if (!credits) {
        // a stream's cost is only known after it ends: read it from the call log
        const cost = await streamedCost(resp.headers.get("x-request-id"));
        if (cost) update({}, { credits: cost });
      }
    } catch (e) {
      if ((e as Error).name === "AbortError") update({}, { stopped: true, totalMs: performance.now() - started });
      else update({}, { error: errorMessage(e), totalMs: performance.now() - started });
    } finally {
      setStreaming(false);
      ctrl.current = null;
    }
  };

  return (
    <div className="chat">
      <ParamsPanel value={params} onChange={setParams} />
      <div className="messages" aria-live="polite" aria-label={t("Conversation")} role="log">
        {messages.length === 0 && <p className="muted">{t("Send a message to start. The conversation is kept in this browser only.")}</p>}
        {messages.map((m, i) => (
          <div key={i} className={`msg ${m.role}`} data-role={m.role}>
            <div className="msg-role">{m.role === "user" ? t("You") : m.model ?? t("Assistant")}</div>
            <div className="msg-text">{m.content || (m.role === "assistant" && !m.meta?.error && !m.toolCalls?.length && streaming && i === messages.length - 1 ? "…" : "")}</div>
            {m.toolCalls?.map((c, k) => (
              <div key={k} className="tool-call small" data-testid="tool-call">
                {t("Tool call")}: <code>{c.name}({c.arguments})</code>
              </div>
            ))}
            {m.meta?.error && (
              <div className="error-text small" role="alert">
                {m.meta.error}
              </div>
            )}
            {m.role === "assistant" && m.meta && (m.meta.totalMs !== undefined || m.meta.stopped) && <AnswerMeta meta={m.meta} />}
          </div>
        ))}
        <div ref={endRef} />
      </div>
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <textarea
          aria-label={t("Message")}
          placeholder={t("Type a message… (Enter to send, Shift+Enter for a new line)")}
          rows={2}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <div className="composer-actions">
          {streaming ? (
            <button type="button" className="btn danger" onClick={() => ctrl.current?.abort()}>
              {t("Stop")}
            </button>
          ) : (
            <button type="submit" className="btn primary" disabled={!input.trim() || !model || !!paramsError(params)}>
              {t("Send")}
            </button>
          )}
          <button type="button" className="btn" disabled={streaming || !messages.length} onClick={() => setMessages([])}>
            {t("Clear")}
          </button>
          <CodeButton body={() => chatBody(model, toApi(input.trim() ? [...messages, { role: "user", content: input.trim() }] : messages), params, false)} />
        </div>
      </form>
    </div>
  );
}

/** A JSON call that also returns the cost header the hub sets on non-streaming answers and how long it took. */
async function jsonWithCost<T>(path: string, body: unknown): Promise<{ data: T; credits: string | null; ms: number }> {
  const started = performance.now();
  const resp = await raw("POST", path, body);
  const credits = resp.headers.get("x-aigne-hub-credits");
  const data = (await resp.json()) as T;
  return { data, credits: credits && Number(credits) > 0 ? credits : null, ms: performance.now() - started };
}

/** The credits of a finished call, from the usage log (written in small batches, so retry briefly). */
async function streamedCost(requestId: string | null): Promise<string | null> {
  if (!requestId) return null;
  for (let attempt = 0; attempt < 4; attempt++) {
    await new Promise((r) => setTimeout(r, 400 + attempt * 300));
    try {
      const page = await billing.calls({ page: 1, pageSize: 1, requestId });
      const call = page.list[0];
      if (call) return Number(call.credits ?? 0) > 0 ? String(call.credits) : null;
    } catch {
      return null; // analytics not available: the answer just shows no cost
    }
  }
  return null;
}

function AnswerMeta({ meta }: { meta: NonNullable<Message["meta"]> }) {
  const { t } = useI18n();
  const parts: string[] = [];
  if (meta.stopped) parts.push(t("stopped"));
  if (meta.inputTokens !== undefined) parts.push(t("{n} input tokens", { n: formatNumber(meta.inputTokens) }));
  if (meta.outputTokens !== undefined) parts.push(t("{n} output tokens", { n: formatNumber(meta.outputTokens) }));
  if (meta.ttfbMs !== undefined) parts.push(t("first token {ms} ms", { ms: Math.round(meta.ttfbMs) }));
  if (meta.totalMs !== undefined) parts.push(t("total {ms} ms", { ms: Math.round(meta.totalMs) }));
  if (meta.credits) parts.push(t("{n} credits", { n: formatNumber(Number(meta.credits), 8) }));
  return (
    <div className="msg-meta small muted" data-testid="answer-meta">
      {parts.join(" · ")}
    </div>
  );
}

interface ImageResult {
  images: string[];
  ms: number;
  credits: string | null;
  usage?: { input_tokens?: number; output_tokens?: number };
}

/** The sizes an image model accepts (OpenAI's documented lists); other vendors' models get the common square
 * sizes, which OpenAI-compatible image APIs take. */
export function imageSizes(model: string): string[] {
  const id = model.toLowerCase();
  if (id.includes("dall-e-2")) return ["256x256", "512x512", "1024x1024"];
  if (id.includes("dall-e-3")) return ["1024x1024", "1792x1024", "1024x1792"];
  if (id.includes("gpt-image")) return ["1024x1024", "1536x1024", "1024x1536", "auto"];
  return ["1024x1024", "512x512", "256x256"];
}

function ImageGen({ model }: { model: string }) {
  const { t } = useI18n();
  const [prompt, setPrompt] = useState("");
  const sizes = imageSizes(model);
  const [chosen, setSize] = useState(sizes[0]);
  const size = sizes.includes(chosen) ? chosen : sizes[0];
  const [n, setN] = useState(1);
  const [result, setResult] = useState<ImageResult | null>(null);
  const action = useAction();
  return (
    <div className="gen">
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const got = await action.run(() =>
            jsonWithCost<{ data: { url?: string; b64_json?: string }[]; usage?: ImageResult["usage"] }>("/v1/images/generations", {
              model,
              prompt,
              n,
              size,
              response_format: "b64_json",
            }),
          );
          if (got)
            setResult({
              images: got.data.data.map((d) => (d.b64_json ? `data:image/png;base64,${d.b64_json}` : (d.url ?? ""))).filter(Boolean),
              ms: got.ms,
              usage: got.data.usage,
              credits: got.credits,
            });
        }}
      >
        <label className="field">
          <span className="field-label">{t("Prompt")}</span>
          <textarea name="prompt" rows={3} required value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <div className="row gap wrap">
          <label className="field">
            <span className="field-label">{t("Size")}</span>
            <select value={sizes.includes(size) ? size : sizes[0]} onChange={(e) => setSize(e.target.value)}>
              {sizes.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field-label">{t("Count")}</span>
            <input type="number" min={1} max={4} value={n} onChange={(e) => setN(Number(e.target.value))} />
          </label>
        </div>
        <InlineError error={action.error} />
        <button type="submit" className="btn primary" disabled={action.busy || !prompt.trim()}>
          {action.busy ? t("Generating…") : t("Generate")}
        </button>
      </form>
      {result && (
        <div className="gen-result">
          <div className="small muted" data-testid="answer-meta">
            {result.images.length === 1 ? t("1 image") : t("{n} images", { n: result.images.length })} ·{" "}
            {t("total {ms} ms", { ms: Math.round(result.ms) })}
            {result.usage?.output_tokens !== undefined && <> · {t("{n} output tokens", { n: result.usage.output_tokens })}</>}
            {result.credits && <> · {t("{n} credits", { n: formatNumber(Number(result.credits), 8) })}</>}
          </div>
          <div className="images">
            {result.images.map((src, i) => (
              <a key={i} href={src} target="_blank" rel="noreferrer">
                <img src={src} alt={t("Generated image {n} for: {prompt}", { n: i + 1, prompt })} />
              </a>
            ))}
          </div>
        </div>
      )}
    </div>
  );
}

function Embeddings({ model }: { model: string }) {
  const { t } = useI18n();
  const [input, setInput] = useState("");
  const [result, setResult] = useState<{ vector: number[]; tokens?: number; ms: number; credits: string | null } | null>(null);
  const action = useAction();
  return (
    <div className="gen">
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const got = await action.run(() =>
            jsonWithCost<{ data: { embedding: number[] }[]; usage?: { prompt_tokens?: number } }>("/v1/embeddings", { model, input }),
          );
          if (got)
            setResult({
              vector: got.data.data[0]?.embedding ?? [],
              tokens: got.data.usage?.prompt_tokens,
              ms: got.ms,
              credits: got.credits,
            });
        }}
      >
        <label className="field">
          <span className="field-label">{t("Text")}</span>
          <textarea name="input" rows={3} required value={input} onChange={(e) => setInput(e.target.value)} />
        </label>
        <InlineError error={action.error} />
        <button type="submit" className="btn primary" disabled={action.busy || !input.trim()}>
          {action.busy ? t("Embedding…") : t("Embed")}
        </button>
      </form>
      {result && (
        <div className="gen-result">
          <div className="small muted" data-testid="answer-meta">
            {t("{n} dimensions", { n: result.vector.length })}
            {result.tokens !== undefined && <> · {t("{n} input tokens", { n: result.tokens })}</>} · {t("total {ms} ms", { ms: Math.round(result.ms) })}
            {result.credits && <> · {t("{n} credits", { n: formatNumber(Number(result.credits), 8) })}</>}
          </div>
          <p className="small">{t("First 10 values")}:</p>
          <pre className="vector">[{result.vector.slice(0, 10).map((v) => v.toFixed(6)).join(", ")}{result.vector.length > 10 ? ", …" : ""}]</pre>
        </div>
      )}
    </div>
  );
}

/** The clip lengths and sizes a video model takes (OpenAI's Sora lists; the Pro model adds the larger sizes). */
export function videoOptions(model: string): { seconds: string[]; sizes: string[] } {
  const pro = model.toLowerCase().includes("pro");
  return { seconds: ["4", "8", "12"], sizes: ["720x1280", "1280x720", ...(pro ? ["1024x1792", "1792x1024"] : [])] };
}

interface VideoResult {
  url: string;
  mimeType: string;
  seconds?: number;
  ms: number;
  credits: string | null;
}

/** Video through `POST /api/v2/video`: the hub creates the provider's job, polls it and stores the clip, and
 * answers once it is ready (minutes for real renders), so the page shows the time waited and can cancel. */
function VideoGen({ model }: { model: string }) {
  const { t } = useI18n();
  const [prompt, setPrompt] = useState("");
  const options = videoOptions(model);
  const [seconds, setSeconds] = useState(options.seconds[0]);
  const [chosen, setSize] = useState(options.sizes[0]);
  const size = options.sizes.includes(chosen) ? chosen : options.sizes[0];
  const [result, setResult] = useState<VideoResult | null>(null);
  const [waited, setWaited] = useState(0);
  const ctrl = useRef<AbortController | null>(null);
  const action = useAction();

  useEffect(() => {
    if (!action.busy) return;
    const started = Date.now();
    setWaited(0);
    const tick = setInterval(() => setWaited(Math.floor((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(tick);
  }, [action.busy]);

  const submit = async () => {
    const controller = new AbortController();
    ctrl.current = controller;
    setResult(null);
    const started = performance.now();
    const got = await action.run(async () => {
      const resp = await raw("POST", "/api/v2/video", { input: { prompt, seconds, size, modelOptions: { model } } }, { signal: controller.signal });
      const credits = resp.headers.get("x-aigne-hub-credits");
      const data = (await resp.json()) as { videos: { url?: string; data?: string; mimeType?: string }[]; seconds?: number };
      return { data, credits: credits && Number(credits) > 0 ? credits : null };
    });
    ctrl.current = null;
    const clip = got?.data.videos[0];
    if (got && clip?.url)
      setResult({ url: clip.url, mimeType: clip.mimeType ?? "video/mp4", seconds: got.data.seconds, ms: performance.now() - started, credits: got.credits });
  };

  return (
    <div className="gen">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label className="field">
          <span className="field-label">{t("Prompt")}</span>
          <textarea name="prompt" rows={3} required value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <div className="row gap wrap">
          <label className="field">
            <span className="field-label">{t("Length (seconds)")}</span>
            <select value={seconds} onChange={(e) => setSeconds(e.target.value)}>
              {options.seconds.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field-label">{t("Size")}</span>
            <select value={size} onChange={(e) => setSize(e.target.value)}>
              {options.sizes.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
        </div>
        <InlineError error={isAbort(action.error) ? null : action.error} />
        {isAbort(action.error) && <p className="muted small">{t("Cancelled: the page stopped waiting for the video.")}</p>}
        <div className="row gap">
          <button type="submit" className="btn primary" disabled={action.busy || !prompt.trim()}>
            {action.busy ? t("Generating…") : t("Generate")}
          </button>
          {action.busy && (
            <button type="button" className="btn" onClick={() => ctrl.current?.abort()}>
              {t("Cancel")}
            </button>
          )}
        </div>
        {action.busy && (
          <p className="small muted" role="status" data-testid="video-progress">
            {t("Rendering: the hub waits for the provider's job ({s} s so far).", { s: waited })}
          </p>
        )}
      </form>
      {result && (
        <div className="gen-result" data-testid="video-result">
          <div className="small muted" data-testid="answer-meta">
            {result.seconds !== undefined && <>{t("{n} s of video", { n: result.seconds })} · </>}
            {t("total {ms} ms", { ms: Math.round(result.ms) })}
            {result.credits && <> · {t("{n} credits", { n: formatNumber(Number(result.credits), 8) })}</>}
          </div>
          <video className="video" controls preload="metadata" src={result.url} aria-label={t("Generated video for: {prompt}", { prompt })}>
            <track kind="captions" />
          </video>
          <p className="small">
            <a href={result.url} target="_blank" rel="noreferrer">
              {t("Open the video")}
            </a>{" "}
            <span className="muted">({result.mimeType})</span>
          </p>
        </div>
      )}
    </div>
  );
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}
