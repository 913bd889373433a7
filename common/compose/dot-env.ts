import { InputError } from '../errors';

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', $: '$' };

/**
 * The `.env` file of a project (and `--env-file`), as Docker Compose reads it for interpolation, which is
 * not how `env_file` entries are read (see env-file.ts): `KEY=VALUE` lines, an optional `export ` before
 * the name, `#` comments on their own line or after an unquoted value, single quotes literal, double quotes
 * with `\n`, `\t`, `\\`, `\"` escapes, unquoted values trimmed. Throws InputError naming `file:line`.
 */
export function parseDotEnv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = (index === 0 ? raw.replace(/^\uFEFF/, '') : raw).trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (m === null) {
      issues.push(`${file}:${index + 1}: expected NAME=value, got ${JSON.stringify(line)}`);
      return;
    }
    const [, key, rest] = m as unknown as [string, string, string];
    const value = unquote(rest);
    if (value === undefined) issues.push(`${file}:${index + 1}: ${key}: the value's closing quote is missing`);
    else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  });
  if (issues.length > 0) throw new InputError(`env file ${file}`, issues);
  return out;
}

function unquote(rest: string): string | undefined {
  const quote = rest[0];
  if (quote === "'" || quote === '"') {
    const end = quote === "'" ? rest.indexOf("'", 1) : closingDoubleQuote(rest);
    if (end < 0) return undefined;
    const inner = rest.slice(1, end);
    return quote === "'" ? inner : inner.replace(/\\([ntr\\"$])/g, (_, c: string) => ESCAPES[c] as string);
  }
  return rest.replace(/\s+#.*$/, '').trim();
}

function closingDoubleQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
