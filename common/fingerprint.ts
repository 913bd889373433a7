/**
 * A stable 64-bit fingerprint (FNV-1a) of a JSON value, keys sorted: what sciops stores in a resource's
 * `sciops.spec-hash` label to tell, on the next deploy, whether it changed. Pure and free of Node APIs so
 * workflows can compute it. Not for secrets: their fingerprint is a SHA-256 taken inside one activity.
 */
export function fingerprint(value: unknown): string {
  const text = canonicalJson(value);
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** JSON with object keys sorted, so that equal values give equal text. Pure. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
