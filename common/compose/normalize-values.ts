import { type NormalizeContext, report } from './draft';
import { type KeyPath, put, shown } from './issues';
import { cpus, goString, isGoDuration, ramInBytes, toBoolean, toInteger, toNumber } from './units';

/**
 * Scalar and map conversions shared by the normalisers. Each reads a value the schema has already checked for type,
 * converts it as docker's loader does, and reports (with the key path) a value docker refuses, returning undefined.
 */

type Scalar = string | number | boolean | null;

/** A scalar of a string map as docker renders it (`2` -> "2", `2.0` -> "2", `1e6` -> "1e+06", `true` -> "true"). */
export function scalarString(ctx: NormalizeContext, path: KeyPath, value: string | number | boolean): string {
  return goString(value, typeof value === 'number' ? ctx.source.scalarText(path) : undefined);
}

/**
 * A `list_or_dict` as a string map the way docker fills `Labels` and `Mapping`: `KEY=VALUE` items split at the first
 * `=`, an item without `=` and a null value become "".
 */
export function stringMap(ctx: NormalizeContext, path: KeyPath, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const item of value as string[]) {
      const eq = item.indexOf('=');
      put(out, eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
    }
    return out;
  }
  for (const [key, item] of Object.entries((value ?? {}) as Record<string, Scalar>)) {
    put(out, key, item === null ? '' : scalarString(ctx, [...path, key], item));
  }
  return out;
}

/** A `list_or_dict` as docker's `MappingWithEquals` (environment): an item without `=` and a null value are null. */
export function nullableMap(ctx: NormalizeContext, path: KeyPath, value: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(value)) {
    for (const item of value as string[]) {
      const eq = item.indexOf('=');
      put(out, eq < 0 ? item : item.slice(0, eq), eq < 0 ? null : item.slice(eq + 1));
    }
    return out;
  }
  for (const [key, item] of Object.entries((value ?? {}) as Record<string, Scalar>)) {
    put(out, key, item === null ? null : scalarString(ctx, [...path, key], item));
  }
  return out;
}

/** `driver_opts` and `logging.options`: values rendered as strings, null as "". */
export function optionMap(ctx: NormalizeContext, path: KeyPath, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries((value ?? {}) as Record<string, Scalar>)) {
    put(out, key, item === null ? '' : scalarString(ctx, [...path, key], item));
  }
  return out;
}

/** `string_or_list`: a string is a list of one. */
export function stringList(value: unknown): string[] {
  return typeof value === 'string' ? [value] : [...(value as string[])];
}

export function boolAt(ctx: NormalizeContext, path: KeyPath, value: unknown): boolean | undefined {
  const b = toBoolean(value as boolean | string);
  if (b === undefined) report(ctx, path, `expected true or false, got ${shown(value)}`);
  return b;
}

export function intAt(ctx: NormalizeContext, path: KeyPath, value: unknown, min = 0): number | undefined {
  const n = toInteger(value as number | string);
  if (n === undefined || n < min) {
    report(ctx, path, `expected a whole number${min === 0 ? ' (0 or more)' : ` of at least ${min}`}, got ${shown(value)}`);
    return undefined;
  }
  return n;
}

export function numberAt(ctx: NormalizeContext, path: KeyPath, value: unknown): number | undefined {
  const n = toNumber(value as number | string);
  if (n === undefined || n < 0) report(ctx, path, `expected a number (0 or more), got ${shown(value)}`);
  return n === undefined || n < 0 ? undefined : n;
}

/** A Go duration, kept as written. */
export function durationAt(ctx: NormalizeContext, path: KeyPath, value: unknown): string | undefined {
  if (typeof value === 'string' && isGoDuration(value)) return value;
  report(ctx, path, `expected a duration such as 10s, 1m30s or 500ms, got ${shown(value)}`);
  return undefined;
}

/** A size: a number of bytes, or a string with a unit (`512M`, `1.5g`, `64KiB`). */
export function bytesAt(ctx: NormalizeContext, path: KeyPath, value: unknown): number | undefined {
  const n = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? value : undefined) : ramInBytes(String(value));
  if (n === undefined) report(ctx, path, `expected a size such as 512M, 1g or 1.5GB (bytes when no unit), got ${shown(value)}`);
  return n;
}

export function cpusAt(ctx: NormalizeContext, path: KeyPath, value: unknown): number | undefined {
  const n = cpus(value as number | string);
  if (n === undefined) report(ctx, path, `expected a number of CPUs such as 0.5 or 2 (at most 9 decimals), got ${shown(value)}`);
  return n;
}

/** A file mode: a number (octal when written 0440), or a decimal string as docker casts it. */
export function modeAt(ctx: NormalizeContext, path: KeyPath, value: unknown): number | undefined {
  return intAt(ctx, path, value);
}

/**
 * `extra_hosts` as `host:ip` entries, as docker's loader builds them: list items split at the first `=` or else `:`;
 * a mapping sorted by its entries (docker sorts it); brackets around an IPv6 address dropped. A mapping value may list
 * several addresses (one entry each). An item with neither separator is refused (docker drops it silently).
 */
export function extraHosts(ctx: NormalizeContext, path: KeyPath, value: unknown): string[] {
  const pairs: [string, string][] = [];
  if (Array.isArray(value)) {
    (value as string[]).forEach((item, i) => {
      const sep = item.includes('=') ? '=' : item.includes(':') ? ':' : undefined;
      if (sep === undefined) {
        report(ctx, [...path, i], `expected host:ip or host=ip, got ${shown(item)}`);
        return;
      }
      const at = item.indexOf(sep);
      pairs.push([item.slice(0, at), item.slice(at + 1)]);
    });
  } else {
    const entries: [string, string][] = [];
    for (const [host, ips] of Object.entries(value as Record<string, string | string[]>)) {
      for (const ip of Array.isArray(ips) ? ips : [ips]) entries.push([host, ip]);
    }
    entries.sort((a, b) => (`${a[0]}:${a[1]}` < `${b[0]}:${b[1]}` ? -1 : 1));
    pairs.push(...entries);
  }
  return pairs.map(([host, ip]) => `${host}:${ip.length > 2 && ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip}`);
}

/** `ulimits`: a number is both the soft and the hard limit. */
export function ulimitsAt(ctx: NormalizeContext, path: KeyPath, value: unknown): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const [name, limit] of Object.entries(value as Record<string, unknown>)) {
    if (limit !== null && typeof limit === 'object') {
      const l = limit as { soft: unknown; hard: unknown };
      const soft = intAt(ctx, [...path, name, 'soft'], l.soft, -1);
      const hard = intAt(ctx, [...path, name, 'hard'], l.hard, -1);
      if (soft !== undefined && hard !== undefined) put(out, name, { soft, hard });
    } else {
      const n = intAt(ctx, [...path, name], limit, -1);
      if (n !== undefined) put(out, name, { soft: n, hard: n });
    }
  }
  return out;
}
