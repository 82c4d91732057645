// Small building blocks shared by every page: async loading, states, pager, dialog, copy button, switch,
// tables, search boxes and buttons that ask first.
import { cloneElement, isValidElement, useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { ApiError, isNotAvailable } from "../api";
import { useI18n } from "../i18n";

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Run `load` when `deps` change; keep the previous data while reloading so lists do not flash. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    setError(null);
    load(ctrl.signal)
      .then((d) => !ctrl.signal.aborted && setData(d))
      .catch((e) => !ctrl.signal.aborted && setError(e))
      .finally(() => !ctrl.signal.aborted && setLoading(false));
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload, setData };
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label ?? t("Loading…")}
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="state error" role="alert">
      <strong>{t("Something went wrong")}:</strong> {errorMessage(error)}
      {onRetry && (
        <button type="button" className="btn small" onClick={onRetry}>
          {t("Retry")}
        </button>
      )}
    </div>
  );
}

/** For pages whose backend belongs to a plugin or API that is not installed (or disabled) yet. */
export function NotAvailable({ feature, detail }: { feature: string; detail?: string }) {
  const { t } = useI18n();
  return (
    <div className="state unavailable" role="status" data-testid="not-available">
      <strong>{t("{feature} is not available on this hub.", { feature })}</strong>
      <p>{detail ?? t("The API behind this page is not installed or its plugin is disabled. Ask an administrator, or check the Plugins page.")}</p>
    </div>
  );
}

/** Loading / error / not-available handling around a rendered result. */
export function AsyncView<T>({
  state,
  feature,
  children,
}: {
  state: AsyncState<T>;
  feature?: string;
  children: (data: T) => ReactNode;
}) {
  if (state.error) {
    if (feature && isNotAvailable(state.error)) return <NotAvailable feature={feature} />;
    return <ErrorNotice error={state.error} onRetry={state.reload} />;
  }
  if (state.data === undefined) return <Loading />;
  return (
    <div className={state.loading ? "reloading" : undefined} aria-busy={state.loading}>
      {children(state.data)}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function Pager({
  page,
  pageSize,
  count,
  onPage,
}: {
  page: number;
  pageSize: number;
  count: number;
  onPage: (p: number) => void;
}) {
  const { t } = useI18n();
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return (
    <nav className="pager" aria-label={t("Pagination")}>
      <button type="button" className="btn small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ {t("Previous")}
      </button>
      <span>{t("Page {page} of {pages} · {count} total", { page, pages, count })}</span>
      <button type="button" className="btn small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t("Next")} ›
      </button>
    </nav>
  );
}

export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const { t } = useI18n();
  useEffect(() => {
    // the control that opened the dialog gets the focus back when it closes (as a native modal would)
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const d = ref.current;
    if (d && !d.open) {
      if (typeof d.showModal === "function") d.showModal();
      else d.setAttribute("open", "");
    }
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={id}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header>
        <h2 id={id}>{title}</h2>
        <button type="button" className="btn ghost" aria-label={t("Close")} onClick={onClose}>
          ×
        </button>
      </header>
      <div className="modal-body">{children}</div>
    </dialog>
  );
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="btn small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          // clipboard needs a secure context; fall back to selecting the text for the user
          const el = document.createElement("textarea");
          el.value = text;
          document.body.appendChild(el);
          el.select();
          document.execCommand?.("copy");
          el.remove();
        }
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      {copied ? t("Copied") : (label ?? t("Copy"))}
    </button>
  );
}

export function Switch({
  checked,
  onChange,
  label,
  disabled,
}: {
  checked: boolean;
  onChange: (v: boolean) => void;
  label: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      title={label}
      disabled={disabled}
      className={`switch ${checked ? "on" : ""}`}
      onClick={() => onChange(!checked)}
    >
      <span aria-hidden="true" />
    </button>
  );
}

export function Badge({ tone, children }: { tone: "ok" | "warn" | "bad" | "muted"; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** A labelled control; the hint stays outside the label (so it is not part of the accessible name) and is
 * linked with aria-describedby instead. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  const id = useId();
  const control =
    hint && isValidElement<{ "aria-describedby"?: string }>(children) ? cloneElement(children, { "aria-describedby": id }) : children;
  return (
    <div className="field">
      <label>
        <span className="field-label">{label}</span>
        {control}
      </label>
      {hint && (
        <small id={id} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** A submit handler with a busy flag and an inline error. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="inline-error" role="alert">
      {errorMessage(error)}
    </p>
  );
}

/** A column heading of `Table`: its text, or `{ label, num }` for a right-aligned number column; `false`
 * leaves a conditional column out. */
export type Column = string | { label: string; num?: boolean } | false | null | undefined;

/** The console's table: scrolls sideways inside `.table-wrap` on narrow screens; `actions` adds a last column
 * whose heading only screen readers get ("Actions", for the row's buttons). */
export function Table({
  columns,
  actions,
  compact,
  caption,
  testId,
  pick,
  children,
}: {
  columns: Column[];
  /** a leading column for row checkboxes, headed by this (the page's "select all" box) */
  pick?: ReactNode;
  actions?: boolean;
  compact?: boolean;
  caption?: string;
  testId?: string;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <div className="table-wrap">
      <table className={compact ? "table compact" : "table"} data-testid={testId}>
        {caption && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {pick && <th className="pick">{pick}</th>}
            {columns.map((c, i) =>
              !c ? null : typeof c === "string" ? (
                <th key={i}>{c}</th>
              ) : (
                <th key={i} className={c.num ? "num" : undefined}>
                  {c.label}
                </th>
              ),
            )}
            {actions && (
              <th>
                <span className="sr-only">{t("Actions")}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A search box whose visible placeholder is also its accessible name. */
export function SearchInput({ label, value, onSearch }: { label: string; value: string; onSearch: (q: string) => void }) {
  return <input type="search" aria-label={label} placeholder={label} value={value} onChange={(e) => onSearch(e.target.value)} />;
}

/** A second-level heading with its tools (search, "New ..." buttons) on the same line. */
export function SectionHead({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="section-head">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** A destructive button that asks `question` (window.confirm) before it calls `onConfirm`. */
export function ConfirmButton({
  question,
  onConfirm,
  label,
  disabled,
  children,
}: {
  question: string;
  onConfirm: () => void;
  /** the accessible name, when the visible text alone does not say what goes (e.g. "Revoke key ci-app") */
  label?: string;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className="btn small danger"
      disabled={disabled}
      aria-label={label}
      onClick={() => {
        if (window.confirm(question)) onConfirm();
      }}
    >
      {children}
    </button>
  );
}
