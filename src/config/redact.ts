/**
 * The effective config as an operator may see it (GET /admin/config): every secret replaced by
 * "[redacted]". A value is secret by its key (credential, password, token, key, …), by where it
 * sits (an Authorization or API-key header), as the password of a URL (redis://:pw@host), or
 * because it is the value of an environment variable whose name says secret (so a secret
 * interpolated into any other field, e.g. a header, is caught too).
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear. */
const SECRET_KEYS =
  /^(credential|credentials|password|secret|clientsecret|token|accesstoken|access_token|key|keys|apikey|api_key|privatekey|passphrase|authorization|proxy-authorization|cookie|x-api-key)$/i;

/** Environment variable names whose values are secrets. */
const SECRET_ENV_NAMES = /(TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_KEY)/i;

/** A URL's userinfo password: scheme://user:password@host. */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@/\s]+)@/i;

/**
 * A JSON-safe copy of a config with its secrets redacted. Functions (code steps of a TypeScript
 * config) are shown as "[function name]"; cycles as "[cycle]".
 */
export function redactConfig(config: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const secretValues = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    // Short values ("1", "on") would redact unrelated fields.
    if (value !== undefined && value.length >= 8 && SECRET_ENV_NAMES.test(name)) secretValues.add(value);
  }
  const seen = new WeakSet<object>();
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') return redactString(value, secretValues);
    if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
    if (typeof value === 'bigint') return value.toString();
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[cycle]';
    seen.add(value);
    if (value instanceof Map) return visit(Object.fromEntries(value));
    if (value instanceof Set) return [...value].map(visit);
    if (value instanceof RegExp) return value.source;
    if (Array.isArray(value)) return value.map(visit);
    const copy: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      copy[key] =
        SECRET_KEYS.test(key) && child !== undefined && child !== null ? secretShape(child) : visit(child);
    }
    return copy;
  };
  return visit(config);
}

/** A secret keeps its shape (a list stays a list of the same length), never its content. */
function secretShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(() => REDACTED);
  if (typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, secretShape(child)]));
  }
  return REDACTED;
}

function redactString(value: string, secretValues: ReadonlySet<string>): string {
  let text = value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  for (const secret of secretValues) if (text.includes(secret)) text = text.replaceAll(secret, REDACTED);
  return text;
}
