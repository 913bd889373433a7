import { InputError } from '../errors';

/**
 * Env files as `docker stack deploy` reads them (docker/cli `pkg/kvfile`): one `KEY=VALUE` a line; leading whitespace
 * is dropped, the rest of the line is the value as written (quotes, `#` and trailing spaces included: there is no
 * quoting, escaping or interpolation); blank lines and lines starting with `#` are skipped; a BOM is dropped; a line
 * with a name and no `=` takes the variable's value from the environment, and is left out when it is not set there.
 * A name may not hold whitespace, so `export KEY=VALUE` is an error, as it is for docker.
 */
export interface EnvFileEntry {
  readonly key: string;
  /** The value after `=`; null for a line that is only a name. */
  readonly value: string | null;
  readonly line: number;
}

/** The entries of an env file in file order. Throws InputError with `file:line` for a line docker refuses. */
export function parseEnvFileEntries(text: string, file: string): EnvFileEntry[] {
  const entries: EnvFileEntry[] = [];
  const issues: string[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    let content = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (index === 0 && content.startsWith('\uFEFF')) content = content.slice(1);
    const line = content.replace(/^\s+/u, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') {
      issues.push(`${file}:${lineNo}: no variable name before "=" in ${JSON.stringify(line)}: write NAME=value`);
      return;
    }
    if (/[ \t]/.test(key)) {
      const fix = key.startsWith('export ')
        ? `remove "export": docker reads env files literally, not as shell scripts`
        : 'a name cannot hold spaces or tabs';
      issues.push(`${file}:${lineNo}: variable ${JSON.stringify(key)} contains whitespace: ${fix}`);
      return;
    }
    entries.push({ key, value: eq < 0 ? null : line.slice(eq + 1), line: lineNo });
  });
  if (issues.length > 0) throw new InputError(`env file ${file}`, issues);
  return entries;
}

/**
 * Parses an env file with docker's rules (see above) into variables. A line that is only a name takes its value from
 * `environment` when given and set there, and is left out otherwise. A later line for the same name wins.
 * Throws InputError whose issues start with `file:line`.
 */
export function parseEnvFile(text: string, file: string, environment?: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of parseEnvFileEntries(text, file)) {
    if (entry.value !== null) setVar(out, entry.key, entry.value);
    else if (environment !== undefined && Object.hasOwn(environment, entry.key)) setVar(out, entry.key, environment[entry.key] as string);
  }
  return out;
}

function setVar(out: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}
