// Public price list: every model the hub serves with its credit rates, sortable and filterable.
import { useMemo, useState } from "react";
import { billing, type PublicModel } from "../billing";
import { useI18n } from "../i18n";
import { AsyncView, Empty, SearchInput, Table, useAsync } from "../components/ui";

const PER = 1_000_000;

export function perMillion(rate: string | number | null | undefined): string {
  const n = Number(rate ?? 0);
  if (!Number.isFinite(n)) return "–";
  const v = n * PER;
  return v === 0 ? "0" : v.toLocaleString(undefined, { maximumSignificantDigits: 6 });
}

function outputUnit(type: string, t: (s: string) => string): string {
  if (type.startsWith("image")) return t("per image");
  if (type.startsWith("video")) return t("per second");
  return t("per 1M tokens");
}

export function PricingPage() {
  const { t } = useI18n();
  const state = useAsync(() => billing.publicModels(), []);
  const [q, setQ] = useState("");
  const [type, setType] = useState("");
  const [sort, setSort] = useState<"model" | "input" | "output">("model");
  const rows = useMemo(() => {
    const list = (state.data ?? []).filter(
      (m) => (!type || m.type.startsWith(type)) && (!q || m.key.toLowerCase().includes(q.toLowerCase())),
    );
    const key = (m: PublicModel) =>
      sort === "input" ? Number(m.input_credits_per_token) : sort === "output" ? Number(m.output_credits_per_token) : 0;
    return [...list].sort((a, b) => (sort === "model" ? a.key.localeCompare(b.key) : key(a) - key(b)));
  }, [state.data, q, type, sort]);
  return (
    <section>
      <h1>{t("Pricing")}</h1>
      <p className="muted">{t("Credits charged per model. Token prices are per 1M tokens; images per image; video per second.")}</p>
      <div className="row gap wrap filters">
        <SearchInput label={t("Search models")} value={q} onSearch={setQ} />
        <select aria-label={t("Type")} value={type} onChange={(e) => setType(e.target.value)}>
          <option value="">{t("All types")}</option>
          <option value="chat">{t("chat")}</option>
          <option value="image">{t("image")}</option>
          <option value="embedding">{t("embedding")}</option>
          <option value="video">{t("video")}</option>
        </select>
        <select aria-label={t("Sort by")} value={sort} onChange={(e) => setSort(e.target.value as typeof sort)}>
          <option value="model">{t("Sort by model")}</option>
          <option value="input">{t("Sort by input price")}</option>
          <option value="output">{t("Sort by output price")}</option>
        </select>
      </div>
      <AsyncView state={state} feature={t("Pricing")}>
        {() =>
          rows.length === 0 ? (
            <Empty>{t("No models match.")}</Empty>
          ) : (
            <Table
              columns={[
                t("Model"),
                t("Provider"),
                t("Type"),
                { label: t("Input (per 1M tokens)"), num: true },
                { label: t("Output"), num: true },
              ]}
            >
              {rows.map((m) => (
                <tr key={m.key + m.type}>
                  <td>
                    <code>{m.key}</code>
                  </td>
                  <td>{m.providerDisplayName ?? m.provider}</td>
                  <td>{t(m.type.startsWith("image") ? "image" : m.type)}</td>
                  <td className="num">{perMillion(m.input_credits_per_token)}</td>
                  <td className="num">
                    {m.type.startsWith("image") || m.type.startsWith("video")
                      ? Number(m.output_credits_per_token).toLocaleString()
                      : perMillion(m.output_credits_per_token)}{" "}
                    <span className="muted small">{outputUnit(m.type, t)}</span>
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </AsyncView>
    </section>
  );
}
