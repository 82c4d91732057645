// Form pieces shared by the console's dialogs: a dialog with a form (Cancel / submit, busy flag, inline error)
// and labelled text and date fields.
import type { InputHTMLAttributes, ReactNode } from "react";
import { useI18n } from "../i18n";
import { Field, InlineError, Modal, useAction } from "./ui";

/** A dialog around a form. Submitting runs `submit` (the submit button is disabled meanwhile; a thrown error is
 * shown above the buttons); a truthy result is handed to `onDone`, which usually closes the dialog. */
export function ModalForm<T>({
  title,
  submitLabel,
  onClose,
  submit,
  onDone,
  children,
}: {
  title: string;
  submitLabel: string;
  onClose: () => void;
  submit: () => Promise<T>;
  onDone: (result: T) => void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const action = useAction();
  return (
    <Modal title={title} onClose={onClose}>
      <form
        className="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const result = await action.run(submit);
          if (result) onDone(result);
        }}
      >
        {children}
        <InlineError error={action.error} />
        <div className="row gap end">
          <button type="button" className="btn" onClick={onClose}>
            {t("Cancel")}
          </button>
          <button type="submit" className="btn primary" disabled={action.busy}>
            {submitLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value">;

/** A labelled `<input>` (see `Field`) that reports its text. */
export function TextField({
  label,
  hint,
  value,
  onValue,
  ...input
}: InputProps & { label: string; hint?: string; value: string | number; onValue: (value: string) => void }) {
  return (
    <Field label={label} hint={hint}>
      <input {...input} value={value} onChange={(e) => onValue(e.target.value)} />
    </Field>
  );
}

/** "Expires on (optional)": a date from today on; turn it into a timestamp with `expiryFromDate`. */
export function ExpiryField({ value, onValue }: { value: string; onValue: (date: string) => void }) {
  const { t } = useI18n();
  return (
    <TextField
      label={t("Expires on (optional)")}
      name="expires"
      type="date"
      value={value}
      min={new Date().toISOString().slice(0, 10)}
      onValue={onValue}
    />
  );
}

/** "2026-12-31" from a date input becomes the end of that day in the user's timezone. */
export function expiryFromDate(date: string): string | null {
  if (!date) return null;
  const d = new Date(`${date}T23:59:59`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
