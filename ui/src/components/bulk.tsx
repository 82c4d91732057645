// Multi-select for the console's lists: a checkbox per row and one for the page, and a bar that runs an
// action (enable, disable, delete, revoke ...) over the selected rows one by one and says how it went.
import { useEffect, useState, type ReactNode } from "react";
import { useI18n } from "../i18n";
import { errorMessage } from "./ui";

export interface Selection<K> {
  selected: Set<K>;
  has: (k: K) => boolean;
  toggle: (k: K) => void;
  /** select every row of the page, or none when all are selected already */
  toggleAll: () => void;
  allChecked: boolean;
  clear: () => void;
}

/** Selection over the rows `keys` (the current page); it is cleared when the page's rows change. */
export function useSelection<K>(keys: K[]): Selection<K> {
  const [selected, setSelected] = useState<Set<K>>(new Set());
  const signature = JSON.stringify(keys);
  useEffect(() => setSelected(new Set()), [signature]);
  const allChecked = keys.length > 0 && keys.every((k) => selected.has(k));
  return {
    selected,
    has: (k) => selected.has(k),
    toggle: (k) =>
      setSelected((s) => {
        const n = new Set(s);
        if (n.has(k)) n.delete(k);
        else n.add(k);
        return n;
      }),
    toggleAll: () => setSelected(allChecked ? new Set() : new Set(keys)),
    allChecked,
    clear: () => setSelected(new Set()),
  };
}

export function SelectAll<K>({ selection, label }: { selection: Selection<K>; label: string }) {
  return <input type="checkbox" aria-label={label} checked={selection.allChecked} onChange={selection.toggleAll} />;
}

export function SelectRow<K>({ selection, id, label }: { selection: Selection<K>; id: K; label: string }) {
  return <input type="checkbox" aria-label={label} checked={selection.has(id)} onChange={() => selection.toggle(id)} />;
}

export interface BulkAction<K> {
  label: string;
  /** asked with window.confirm first (destructive actions) */
  confirm?: string;
  danger?: boolean;
  run: (id: K) => Promise<unknown>;
}

/** "{n} selected" and the actions; after a run, how many succeeded and the first error, then `onDone`. */
export function BulkBar<K>({ selection, actions, onDone }: { selection: Selection<K>; actions: BulkAction<K>[]; onDone: () => void }) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ReactNode>(null);
  const n = selection.selected.size;
  if (!n && !report) return null;
  return (
    <div className="bulk-bar row gap wrap" role="group" aria-label={t("Bulk actions")}>
      {n > 0 && <strong>{t("{n} selected", { n })}</strong>}
      {n > 0 &&
        actions.map((a) => (
          <button
            key={a.label}
            type="button"
            className={a.danger ? "btn small danger" : "btn small"}
            disabled={busy}
            onClick={async () => {
              if (a.confirm && !window.confirm(a.confirm.replace("{n}", String(n)))) return;
              setBusy(true);
              setReport(null);
              let ok = 0;
              let firstError: unknown = null;
              for (const id of selection.selected) {
                try {
                  await a.run(id);
                  ok++;
                } catch (e) {
                  firstError ??= e;
                }
              }
              setBusy(false);
              selection.clear();
              setReport(
                <span role="status" className={firstError ? "error-text small" : "ok-text small"} data-testid="bulk-report">
                  {t("{action}: {ok} of {n} done.", { action: a.label, ok, n })}
                  {firstError ? ` ${errorMessage(firstError)}` : ""}
                </span>,
              );
              onDone();
            }}
          >
            {a.label}
          </button>
        ))}
      {report}
    </div>
  );
}
