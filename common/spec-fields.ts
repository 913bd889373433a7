import { z } from 'zod';
import { isGoDuration, ramInBytes } from './compose/units';

/**
 * Field rules shared by the spec schemas: names, labels, paths, durations, byte sizes and addresses, each
 * with the message an operator sees. Pure.
 */

const NAME = /^[a-z0-9][a-z0-9_-]{0,47}$/;
/** A sciops name (stack, service, volume...): what a compose file's keys look like, lower-case. */
export const specName = (what: string) => z.string().regex(NAME, `a ${what} name: lower-case letters, digits, _ and -, at most 48`);

/** A name as Docker itself allows it for swarm objects (`name:` of an external or renamed object). */
export const dockerObjectName = (what: string) =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, `a ${what} name as Docker takes it: letters, digits, _ . and -`);

/** The objects that may also be written as a bare string, and the key the string fills in. */
const shortForms = new WeakMap<object, string>();

/** The key a bare string fills in, when `schema` is a short form. */
export const shortFormKey = (schema: object): string | undefined => shortForms.get(schema);

/**
 * An object that may be written as a bare string, which fills in `key` (compose's short syntax:
 * `secrets: [db_password]`); known to `shortFormKey`, so the JSON Schema says so too.
 */
export function shortForm<T extends z.ZodObject>(key: string, object: T) {
  const schema = z.preprocess((v) => (typeof v === 'string' ? { [key]: v } : v), object);
  shortForms.set(schema, key);
  return schema;
}

/**
 * A stack's name: like any sciops name, but without `_`, which joins a stack's name to its objects'
 * (`omics` + `db_data` and `omics_db` + `data` would both be `omics_db_data`).
 */
export const stackName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,47}$/,
    'a stack name: lower-case letters, digits and -, at most 48 (no _: it joins the stack to its objects)',
  );

/** Labels as Docker takes them: any key without `=` or white space, except sciops' own (`sciops.*`), which sciops sets. */
export const labels = z
  .record(
    z
      .string()
      .regex(/^[^=\s]+$/, 'a label key without = or spaces')
      .refine((k) => !k.startsWith('sciops.'), "sciops.* labels are sciops' own: choose another key"),
    z.string(),
  )
  .default({});

export const envName = (what: string) => z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, `${what}: the name of an environment variable`);

export const absolutePath = (where: string) => z.string().regex(/^\/\S*$/, `an absolute path ${where}`);

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration as compose files write them: `10s`, `1m30s`, `500ms`, `0s`. */
export const duration = z.string().refine(isGoDuration, 'a duration such as 10s, 1m30s or 500ms');

/** A Go duration in nanoseconds, as the Engine API takes it. */
export function durationNanos(text: string): number {
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d*\.?\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(value) * (UNIT_NS[unit as string] as number);
  }
  return Math.round(text.startsWith('-') ? -total : total);
}

/** A byte size: a whole number of bytes, or a string such as `512M` (units are powers of 1024, as docker reads them). */
export const byteSize = z.union([z.number().int().min(0), z.string()]).transform((v, ctx) => {
  const bytes = typeof v === 'number' ? v : ramInBytes(v);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: 'a size in bytes, or with a unit: 512M, 1.5g, 100k' });
  return bytes ?? 0;
});

/** An IPv4 address, four octets of 0-255. */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv4 CIDR block whose host bits are zero, e.g. 10.20.0.0/24. */
export function isCidr(text: string): boolean {
  const [ip, bits, extra] = text.split('/');
  if (extra !== undefined || ip === undefined || bits === undefined || !isIPv4(ip) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32)
    return false;
  return ipv4Value(ip) % blockSize(bits) === 0;
}

/** Whether an IPv4 address lies inside a CIDR block. */
export function inCidr(address: string, cidr: string): boolean {
  const [ip, bits] = cidr.split('/');
  const start = ipv4Value(ip as string);
  const value = ipv4Value(address);
  return value >= start && value < start + blockSize(bits as string);
}

/** An IPv4 address as a number, and the number of addresses in a block of this prefix length. */
function ipv4Value(address: string): number {
  return address.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}
function blockSize(prefixBits: string): number {
  return 2 ** (32 - Number(prefixBits));
}
