/**
 * Conversions of compose scalars, each as the Go code docker runs: sizes (go-units `RAMInBytes`), CPU counts
 * (`opts.ParseCPUs`), durations (`time.ParseDuration`), booleans and integers given as strings (the loader's casts),
 * and numbers rendered as strings the way Go's `fmt.Sprint` renders them. Each returns undefined when docker would
 * refuse the value; the caller says why.
 */

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const GO_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `512M`, `1g`, `1.5GB`, `2 KiB`, `100` -> bytes, as go-units `RAMInBytes` (binary multiples, case-insensitive, optional b/ib). */
export function ramInBytes(text: string): number | undefined {
  let num: string;
  let suffix: string;
  const space = text.indexOf(' ');
  if (space >= 0) {
    num = text.slice(0, space);
    suffix = text.slice(space + 1);
  } else {
    let last = -1;
    for (let i = text.length - 1; i >= 0; i--) {
      if (/[0-9.]/.test(text[i] as string)) {
        last = i;
        break;
      }
    }
    if (last < 0) return undefined;
    num = text.slice(0, last + 1);
    suffix = text.slice(last + 1);
  }
  if (!GO_FLOAT.test(num)) return undefined;
  const size = Number(num);
  if (!Number.isFinite(size) || size < 0) return undefined;
  if (suffix === '') return Math.trunc(size);
  if (suffix.length > 3) return undefined;
  const sfx = suffix.toLowerCase();
  if (sfx === 'b') return Math.trunc(size);
  const multiplier = BINARY[sfx[0] as string];
  if (multiplier === undefined) return undefined;
  if (sfx.length === 2 && sfx[1] !== 'b') return undefined;
  if (sfx.length === 3 && sfx.slice(1) !== 'ib') return undefined;
  return Math.trunc(size * multiplier);
}

/** A CPU count (`0.5`, `"2"`, `"1.25"`, `"3/2"`) as a number, as `opts.ParseCPUs` reads it; undefined when it is negative or finer than 1e-9 (docker: "value is too precise"). */
export function cpus(value: number | string): number | undefined {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const ratio = /^\+?(\d+)\/(\d+)$/.exec(text);
  if (!ratio && !/^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const n = ratio ? Number(ratio[1]) / Number(ratio[2]) : Number(text);
  if (!Number.isFinite(n)) return undefined;
  const nanos = n * 1e9;
  if (Math.abs(nanos - Math.round(nanos)) > 1e-6) return undefined;
  return n;
}

const DURATION = /^[-+]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

/** Whether `text` is a Go duration (`10s`, `1m30s`, `1.5h`, `500ms`, `0`). */
export function isGoDuration(text: string): boolean {
  return DURATION.test(text);
}

/** A boolean given as a string, as the loader casts it (YAML 1.1 words): y/yes/true/on, n/no/false/off, any case. */
export function toBoolean(value: boolean | string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  switch (value.toLowerCase()) {
    case 'y':
    case 'yes':
    case 'true':
    case 'on':
      return true;
    case 'n':
    case 'no':
    case 'false':
    case 'off':
      return false;
    default:
      return undefined;
  }
}

/** A whole number given as a number or a decimal string (Go `strconv.Atoi`), within the safe integer range. */
export function toInteger(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A number given as a number or a string (Go `strconv.ParseFloat`). */
export function toNumber(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (!GO_FLOAT.test(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether the YAML text of a plain scalar is an integer to go-yaml v3 (decimal, 0o/0x/0b, legacy 0-octal), not a float. */
export function isYamlIntegerText(text: string): boolean {
  return /^[-+]?(\d+|0o[0-7]+|0x[0-9a-fA-F]+|0b[01]+)$/.test(text.replaceAll('_', ''));
}

/** A float64 as Go's `fmt.Sprint` prints it (`%v`: the shortest representation, exponent form from 1e+06 and below 1e-04). */
export function goFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 6) {
    const rest = digits.slice(1);
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${digits[0]}${rest === '' ? '' : `.${rest}`}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}${frac === '' ? '' : `.${frac}`}`;
}

/**
 * A scalar of a string map (environment, labels, options) as docker's loader renders it with `fmt.Sprint`: integers
 * in decimal, floats as Go prints a float64, booleans as true/false. `yamlText` is the scalar as written, which tells
 * `2` (an integer) from `2.0` (a float); without it an integral number is taken for an integer.
 */
export function goString(value: string | number | boolean, yamlText?: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const isInt = yamlText !== undefined ? isYamlIntegerText(yamlText) : Number.isInteger(value);
  return isInt ? String(value) : goFloat(value);
}
