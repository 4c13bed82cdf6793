/** Checking answers: structural JSON equality that ignores key order (serializers differ in it). */

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = canonical((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** undefined when `actual` equals `expected` as JSON (key order aside), else a short description. */
export function expectJson(actual: unknown, expected: unknown): string | undefined {
  const a = JSON.stringify(canonical(actual));
  const e = JSON.stringify(canonical(expected));
  if (a === e) return undefined;
  const clip = (text: string | undefined) => (text && text.length > 160 ? `${text.slice(0, 160)}…` : text);
  return `expected ${clip(e)} but got ${clip(a)}`;
}
