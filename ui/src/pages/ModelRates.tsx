// The model-rate table (credits billing): filters, create for several providers at once, edit, delete,
// bulk re-pricing from upstream unit costs; rates are shown per 1M tokens (per image / second for media).
import { useState } from "react";
import { admin, type ModelAvailability, type Provider } from "../api";
import { billing, type ModelRate, type ServedModel } from "../billing";
import { formatDate, useI18n } from "../i18n";
import { perMillion } from "./Pricing";
import { BulkBar, SelectAll, SelectRow, useSelection } from "../components/bulk";
import { ModalForm, TextField } from "../components/forms";
import { Notice, useNotice } from "../components/notice";
import { PagedList, usePaged } from "../components/paged";
import { AsyncView, Badge, ConfirmButton, Empty, Field, InlineError, SearchInput, Table, useAction, useAsync, type AsyncState } from "../components/ui";

const PAGE = 20;
const TYPES = ["chat", "embedding", "image", "video"];

function providerName(rate: ModelRate): string {
  return rate.provider;
}

function rateKind(rate: ModelRate): string {
  return rate.kind ?? rate.type;
}

function shown(kind: string, value: string | number | null | undefined): string {
  return kind === "image" || kind === "video" ? (value === null || value === undefined ? "–" : String(value)) : perMillion(value);
}

/** The unit a rate is quoted in, shown next to the number: tokens per 1M, images, video seconds. */
function unitOf(kind: string, side: "input" | "output"): string {
  if (side === "output" && kind === "image") return "/ image";
  if (side === "output" && kind === "video") return "/ second";
  return "/ 1M tokens";
}

/** Which fields a kind of model is priced by: embeddings have no output, media no prompt cache. */
export function rateFields(kind: string): { output: boolean; cache: boolean } {
  return { output: kind !== "embedding", cache: kind === "chat" };
}

export function ModelRatesPage() {
  const { t } = useI18n();
  const [provider, setProvider] = useState("");
  const [model, setModel] = useState("");
  const [editing, setEditing] = useState<ModelRate | ServedModel | "new" | null>(null);
  const served = useAsync(() => billing.rateCatalog(), []);
  const [repricing, setRepricing] = useState(false);
  const notice = useNotice();
  const setNotice = notice.show;
  const providers = useAsync(() => admin.providers(), []);
  const status = useAsync(() => admin.modelStatus(), []);
  const byModel = new Map((status.data ?? []).map((st) => [`${st.provider}/${st.model}`, st]));
  const rates = usePaged((page, pageSize) => billing.rates({ page, pageSize, provider, model }), [provider, model], PAGE);
  const action = useAction();
  const picked = useSelection((rates.data?.list ?? []).map((r) => r.id));
  const toolbar = (
    <>
      <div className="row gap wrap filters">
        <select aria-label={t("Provider")} value={provider} onChange={(e) => rates.filter(setProvider)(e.target.value)}>
          <option value="">{t("All providers")}</option>
          {(providers.data ?? []).map((pr) => (
            <option key={pr.id} value={pr.name}>
              {pr.displayName}
            </option>
          ))}
        </select>
        <SearchInput label={t("Search models")} value={model} onSearch={rates.filter(setModel)} />
        <div className="spacer" />
        <button type="button" className="btn small" onClick={() => setRepricing(true)}>
          {t("Bulk re-pricing")}
        </button>
        <button type="button" className="btn small primary" onClick={() => setEditing("new")}>
          {t("New rate")}
        </button>
      </div>
      <InlineError error={action.error} />
      <BulkBar
        selection={picked}
        actions={[{ label: t("Delete"), danger: true, confirm: t("Delete {n} rates?"), run: (id: number) => billing.deleteRate(id) }]}
        onDone={() => {
          rates.reload();
          served.reload();
        }}
      />
      <Notice notice={notice} testId="rates-notice" />
    </>
  );
  return (
    <section>
      <h1>{t("Models and rates")}</h1>
      <p className="muted">{t("What each model costs in credits. In credits mode a model without a rate is refused.")}</p>
      <PagedList paged={rates} feature={t("Model rates")} toolbar={toolbar} empty={<Empty>{t("No model rates yet.")}</Empty>}>
        {(list) => (
          <Table
            pick={<SelectAll selection={picked} label={t("Select all rates on this page")} />}
            columns={[
              t("Provider"),
              t("Model"),
              t("Type"),
              { label: t("Input"), num: true },
              { label: t("Output"), num: true },
              { label: t("Cache read / write"), num: true },
              { label: t("Unit costs ($/1M)"), num: true },
              t("Status"),
            ]}
            actions
          >
            {list.map((r) => (
              <tr key={r.id}>
                <td className="pick">
                  <SelectRow selection={picked} id={r.id} label={t("Select rate {model}", { model: `${providerName(r)}/${r.model}` })} />
                </td>
                <td>{providerName(r)}</td>
                <td>
                  <code>{r.model}</code>
                  {r.modelDisplay && r.modelDisplay !== r.model && <div className="muted small">{r.modelDisplay}</div>}
                </td>
                <td>{t(rateKind(r))}</td>
                <td className="num" data-col="input">
                  <span>{shown("chat", r.inputRate)}</span> <span className="unit">{t(unitOf(rateKind(r), "input"))}</span>
                </td>
                <td className="num" data-col="output">
                  {rateFields(rateKind(r)).output ? (
                    <>
                      <span>{shown(rateKind(r), r.outputRate)}</span> <span className="unit">{t(unitOf(rateKind(r), "output"))}</span>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td className="num">
                  {rateFields(rateKind(r)).cache ? (
                    <>
                      {r.caching?.readRate != null ? perMillion(r.caching.readRate) : "–"} / {r.caching?.writeRate != null ? perMillion(r.caching.writeRate) : "–"}
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td className="num">
                  {r.unitCosts?.input != null ? perMillion(r.unitCosts.input) : "–"} / {r.unitCosts?.output != null ? shown(rateKind(r), r.unitCosts.output) : "–"}
                </td>
                <td>
                  {r.deprecated ? <Badge tone="muted">{t("deprecated")}</Badge> : <Availability state={byModel.get(`${providerName(r)}/${r.model}`)} />}
                </td>
                <td className="row gap">
                  <button type="button" className="btn small" onClick={() => setEditing(r)}>
                    {t("Edit")}
                  </button>
                  <ConfirmButton
                    question={t("Delete the rate for {model}?", { model: r.model })}
                    onConfirm={() =>
                      action.run(() => billing.deleteRate(r.id)).then(() => {
                        rates.reload();
                        served.reload();
                      })
                    }
                  >
                    {t("Delete")}
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </PagedList>
      <AvailabilityLegend />
      <ServedModels state={served} provider={provider} model={model} onAdd={setEditing} />
      {editing && (
        <RateForm
          rate={editing === "new" || "rated" in editing ? null : editing}
          preset={editing !== "new" && "rated" in editing ? editing : undefined}
          providers={providers.data ?? []}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            setNotice(t("Rate saved."));
            rates.reload();
            served.reload();
          }}
        />
      )}
      {repricing && (
        <RepriceForm
          onClose={() => setRepricing(false)}
          onSaved={(n) => {
            setRepricing(false);
            setNotice(n ? t("{n} rates re-priced from their unit costs.", { n }) : t("No rate has upstream unit costs, so none was re-priced."));
            rates.reload();
          }}
        />
      )}
    </section>
  );
}

const SERVED_SHOWN = 50;

/** Every model the enabled providers serve (the `/v1/models` catalog), the ones without a rate marked and
 * first, each with "Add rate"; filtered by the page's provider and model filters. */
function ServedModels({
  state,
  provider,
  model,
  onAdd,
}: {
  state: AsyncState<{ count: number; unrated: number; list: ServedModel[] }>;
  provider: string;
  model: string;
  onAdd: (m: ServedModel) => void;
}) {
  const { t } = useI18n();
  const [all, setAll] = useState(false);
  return (
    <>
      <h2>{t("Models the providers serve")}</h2>
      <AsyncView state={state}>
        {(catalog) => {
          const q = model.trim().toLowerCase();
          const list = catalog.list
            .filter((m) => (!provider || m.provider === provider) && (!q || m.model.toLowerCase().includes(q)))
            .sort((a, b) => Number(a.rated) - Number(b.rated));
          const shown = all ? list : list.slice(0, SERVED_SHOWN);
          return (
            <>
              <p className="muted small" data-testid="served-summary">
                {t("{n} models served, {unrated} without a rate. In credits mode a model without a rate is refused.", { n: catalog.count, unrated: catalog.unrated })}
              </p>
              {list.length === 0 ? (
                <Empty>{t("No provider serves a model yet.")}</Empty>
              ) : (
                <Table testId="served-models" columns={[t("Provider"), t("Model"), t("Type"), t("Rate")]} actions>
                  {shown.map((m) => (
                    <tr key={`${m.provider}/${m.model}/${m.kind}`} data-served={`${m.provider}/${m.model}`}>
                      <td>{m.providerDisplayName}</td>
                      <td>
                        <code>{m.model}</code>
                      </td>
                      <td>{t(m.kind)}</td>
                      <td>{m.rated ? <Badge tone="ok">{t("rated")}</Badge> : <Badge tone="warn">{t("no rate")}</Badge>}</td>
                      <td>
                        {!m.rated && (
                          <button type="button" className="btn small" aria-label={t("Add a rate for {model}", { model: `${m.provider}/${m.model}` })} onClick={() => onAdd(m)}>
                            {t("Add rate")}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </Table>
              )}
              {shown.length < list.length && (
                <button type="button" className="btn small" onClick={() => setAll(true)}>
                  {t("Show all {n}", { n: list.length })}
                </button>
              )}
            </>
          );
        }}
      </AsyncView>
    </>
  );
}

/** Availability as the last call or check through the hub found it (`GET /api/ai-providers/status`). */
export function Availability({ state }: { state: ModelAvailability | undefined }) {
  const { t } = useI18n();
  if (!state) return <Badge tone="muted">{t("not checked")}</Badge>;
  const when = t("checked {when}", { when: formatDate(state.checkedAt) });
  return (
    <div title={when}>
      <Badge tone={state.available ? "ok" : "bad"}>{state.available ? t("available") : t("unavailable")}</Badge>
      {state.responseTime != null && <div className="muted small">{t("{ms} ms", { ms: Math.round(state.responseTime) })}</div>}
      {!state.available && state.error && (
        <div className="error-text small" title={state.error.code}>
          {t("Last error")}: {state.error.message}
        </div>
      )}
    </div>
  );
}

function AvailabilityLegend() {
  const { t } = useI18n();
  return (
    <dl className="legend small muted" aria-label={t("Status legend")}>
      <dt>
        <Badge tone="ok">{t("available")}</Badge>
      </dt>
      <dd>{t("The last call or check succeeded (with its response time).")}</dd>
      <dt>
        <Badge tone="bad">{t("unavailable")}</Badge>
      </dt>
      <dd>{t("The last call or check failed; the error is shown.")}</dd>
      <dt>
        <Badge tone="muted">{t("not checked")}</Badge>
      </dt>
      <dd>{t("No call or check has reached this model yet.")}</dd>
      <dt>
        <Badge tone="muted">{t("deprecated")}</Badge>
      </dt>
      <dd>{t("This rate is marked deprecated.")}</dd>
    </dl>
  );
}

/** Rates are entered per 1M tokens (as people quote them) and sent per token. */
function toPerToken(perMillionText: string, kind: string): string | null {
  if (perMillionText.trim() === "") return null;
  const n = Number(perMillionText);
  if (!Number.isFinite(n)) return null;
  return kind === "image" || kind === "video" ? String(n) : String(n / 1_000_000);
}

function fromPerToken(v: string | number | null | undefined, kind: string): string {
  if (v === null || v === undefined || v === "") return "";
  const n = Number(v);
  return kind === "image" || kind === "video" ? String(n) : String(Number((n * 1_000_000).toPrecision(12)));
}

function RateForm({
  rate,
  preset,
  providers,
  onClose,
  onSaved,
}: {
  rate: ModelRate | null;
  /** a served model without a rate: its provider, model and kind filled in */
  preset?: ServedModel;
  providers: Provider[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useI18n();
  const kind0 = rate ? rateKind(rate) : (preset?.kind ?? "chat");
  const [selected, setSelected] = useState<string[]>(rate ? [providerName(rate)] : preset ? [preset.provider] : []);
  const [f, setF] = useState({
    model: rate?.model ?? preset?.model ?? "",
    modelDisplay: rate?.modelDisplay ?? "",
    kind: kind0,
    input: fromPerToken(rate?.inputRate, "chat"),
    output: fromPerToken(rate?.outputRate, kind0),
    cacheRead: fromPerToken(rate?.caching?.readRate, "chat"),
    cacheWrite: fromPerToken(rate?.caching?.writeRate, "chat"),
    costIn: fromPerToken(rate?.unitCosts?.input, "chat"),
    costOut: fromPerToken(rate?.unitCosts?.output, kind0),
  });
  const set = (k: keyof typeof f) => (value: string) => setF({ ...f, [k]: value });
  const media = f.kind === "image" || f.kind === "video";
  const fields = rateFields(f.kind);
  return (
    <ModalForm
      title={rate ? t("Edit rate") : t("New rate")}
      submitLabel={t("Save")}
      onClose={onClose}
      submit={async () => {
        const body = {
          model: f.model.trim(),
          modelDisplay: f.modelDisplay.trim() || null,
          kind: f.kind,
          type: f.kind,
          inputRate: toPerToken(f.input, "chat") ?? "0",
          outputRate: fields.output ? (toPerToken(f.output, f.kind) ?? "0") : "0",
          caching: fields.cache ? { readRate: toPerToken(f.cacheRead, "chat"), writeRate: toPerToken(f.cacheWrite, "chat") } : { readRate: null, writeRate: null },
          unitCosts: { input: toPerToken(f.costIn, "chat"), output: fields.output ? toPerToken(f.costOut, f.kind) : null },
        };
        if (rate) return billing.updateRate(rate.id, body);
        if (!selected.length) throw new Error(t("Choose at least one provider."));
        return billing.createRates(selected, body);
      }}
      onDone={onSaved}
    >
      <fieldset disabled={!!rate}>
        <legend>{t("Providers")}</legend>
        <div className="checks">
          {providers.map((p) => (
            <label key={p.id} className="check">
              <input
                type="checkbox"
                checked={selected.includes(p.name)}
                onChange={(e) => setSelected(e.target.checked ? [...selected, p.name] : selected.filter((n) => n !== p.name))}
              />{" "}
              {p.displayName}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="grid2">
        <TextField label={t("Model ID")} name="model" required value={f.model} disabled={!!rate} onValue={set("model")} />
        <TextField label={t("Display name")} name="modelDisplay" value={f.modelDisplay} onValue={set("modelDisplay")} />
        <Field label={t("Type")}>
          <select name="kind" value={f.kind} disabled={!!rate} onChange={(e) => set("kind")(e.target.value)}>
            {TYPES.map((k) => (
              <option key={k} value={k}>
                {t(k)}
              </option>
            ))}
          </select>
        </Field>
        <TextField
          label={f.kind === "chat" || f.kind === "embedding" ? t("Input credits per 1M tokens") : t("Prompt credits per 1M tokens")}
          name="inputRate"
          inputMode="decimal"
          value={f.input}
          onValue={set("input")}
        />
        {fields.output && (
          <TextField
            label={media ? (f.kind === "image" ? t("Credits per image") : t("Credits per second")) : t("Output credits per 1M tokens")}
            name="outputRate"
            inputMode="decimal"
            value={f.output}
            onValue={set("output")}
          />
        )}
        {fields.cache && (
          <>
            <TextField label={t("Cache read per 1M tokens")} name="cacheRead" inputMode="decimal" value={f.cacheRead} onValue={set("cacheRead")} />
            <TextField label={t("Cache write per 1M tokens")} name="cacheWrite" inputMode="decimal" value={f.cacheWrite} onValue={set("cacheWrite")} />
          </>
        )}
        <TextField label={t("Upstream cost in (USD per 1M)")} name="costIn" inputMode="decimal" value={f.costIn} onValue={set("costIn")} />
        {fields.output && (
          <TextField
            label={f.kind === "image" ? t("Upstream cost per image (USD)") : f.kind === "video" ? t("Upstream cost per second (USD)") : t("Upstream cost out (USD per 1M)")}
            name="costOut"
            inputMode="decimal"
            value={f.costOut}
            onValue={set("costOut")}
          />
        )}
      </div>
    </ModalForm>
  );
}

function RepriceForm({ onClose, onSaved }: { onClose: () => void; onSaved: (updated: number) => void }) {
  const { t } = useI18n();
  const [margin, setMargin] = useState("20");
  const [price, setPrice] = useState("0.000002");
  return (
    <ModalForm
      title={t("Bulk re-pricing")}
      submitLabel={t("Re-price")}
      onClose={onClose}
      submit={() => billing.bulkReprice({ profitMargin: Number(margin), creditPrice: Number(price) })}
      onDone={(r) => onSaved(r.updated)}
    >
      <p className="muted small">
        {t("Every rate with upstream unit costs is recomputed: rate = unit cost × (1 + margin) ÷ credit price.")}
      </p>
      <TextField label={t("Profit margin (%)")} name="margin" inputMode="decimal" required value={margin} onValue={setMargin} />
      <TextField label={t("Credit price (USD per credit)")} name="creditPrice" inputMode="decimal" required value={price} onValue={setPrice} />
    </ModalForm>
  );
}
