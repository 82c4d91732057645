// Credential fields drawn from a provider plugin's JSON schema (properties, required, "secret" hints).
import type { CredentialSchema } from "../api";
import { useI18n } from "../i18n";

const NOT_SECRET = new Set(["access_key_id", "region", "account_id", "project", "organization", "endpoint"]);

export function schemaFields(schema: CredentialSchema | undefined): [string, { title: string; secret: boolean; required: boolean; description?: string }][] {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const names = Object.keys(props).length ? Object.keys(props) : ["api_key"];
  return names.map((name) => {
    const p = props[name] ?? {};
    const secret = p.secret ?? !NOT_SECRET.has(name);
    return [name, { title: p.title ?? humanize(name), secret, required: required.has(name) || (!Object.keys(props).length && name === "api_key"), description: p.description }];
  });
}

function humanize(name: string): string {
  const s = name.replace(/_/g, " ").replace(/\bapi\b/gi, "API").replace(/\bid\b/gi, "ID").replace(/\burl\b/gi, "URL");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function SchemaFields({
  schema,
  values,
  onChange,
  idPrefix,
  optional,
}: {
  schema: CredentialSchema | undefined;
  values: Record<string, string>;
  onChange: (v: Record<string, string>) => void;
  idPrefix: string;
  /** The whole group may stay empty (a provider whose key comes from the environment): its required fields
   * are only required once one of them has a value. */
  optional?: boolean;
}) {
  const { t } = useI18n();
  const started = Object.values(values).some((v) => v.trim());
  const enforce = !optional || started;
  return (
    <>
      {schemaFields(schema).map(([name, f]) => (
        <div className="field" key={name}>
          <label>
          <span className="field-label">
            {t(f.title)}
            {f.required && enforce && <span aria-hidden="true"> *</span>}
          </span>
          <input
            id={`${idPrefix}-${name}`}
            name={name}
            type={f.secret ? "password" : "text"}
            autoComplete="off"
            required={f.required && enforce}
            value={values[name] ?? ""}
            aria-describedby={f.description ? `${idPrefix}-${name}-hint` : undefined}
            onChange={(e) => onChange({ ...values, [name]: e.target.value })}
          />
          </label>
          {f.description && (
            <small id={`${idPrefix}-${name}-hint`} className="hint">
              {f.description}
            </small>
          )}
        </div>
      ))}
    </>
  );
}
