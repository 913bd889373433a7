/**
 * What of a tool's output may go into a failure message. A failure message ends up in workflow history
 * (plaintext unless a codec key is set), in the CLI's output and in logs, so it names what failed and never
 * carries a data row or a value: psql prints a whole COPY row in its CONTEXT line, a constraint violation's
 * key and values in DETAIL, a rejected value in the ERROR line itself. Pure.
 */

/** How long one kept line may be. */
const LINE_CHARS = 240;

/** A quoted name PostgreSQL would print for a table, column, constraint, role, database, socket or file. */
const NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*$|^\/[A-Za-z0-9_./-]*$/;

const MASKS: Array<[RegExp, string]> = [
  // user:password@ in a URL
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, '$1***@'],
  // password=..., token: ..., api_key=...
  [/\b(pass(?:word|wd)?|pwd|secret|token|api[_-]?key|credentials?)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2***'],
  // crypt(3)-style hashes: $2b$12$..., $argon2id$..., $6$...
  [/\$[0-9a-z]{1,8}\$[^\s"',;]+/gi, '***'],
  // e-mail addresses
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '***'],
  // a value PostgreSQL quotes after a colon or as a value: `for type integer: "abc"`, `value "42" is out of range`
  [/((?<!\b(?:ERROR|FATAL|PANIC|error)):\s+|\bvalue\s+|\bnear\s+)"(?:[^"]|"")*"/gi, '$1"***"'],
  // single-quoted literals
  [/'(?:[^']|'')*'/g, "'***'"],
  // any other double-quoted text that is not a name
  [/"((?:[^"]|"")*)"/g, '"$1"'],
  // long tokens: keys, digests, base64
  [/\b[A-Za-z0-9+_-]{32,}={0,2}/g, '***'],
];

/** A line with URL passwords, secrets, hashes, e-mail addresses, quoted values and long tokens replaced by ***. */
export function maskValues(line: string): string {
  let out = line;
  for (const [pattern, replacement] of MASKS) {
    out =
      replacement === '"$1"'
        ? out.replace(pattern, (whole, inner: string) => (inner === '***' || NAME.test(inner) ? whole : '"***"'))
        : out.replace(pattern, replacement);
  }
  return out.length > LINE_CHARS ? `${out.slice(0, LINE_CHARS)}…` : out;
}

/** psql's or pg_dump's own error line, or one carrying the server's ERROR, FATAL or PANIC. */
const PG_ERROR = /\b(ERROR|FATAL|PANIC):|^(psql|pg_dump|pg_dumpall|pg_restore): error: |^psql:[^\s]*:\d+: invalid command /;
/** The place of a COPY error, without the row psql quotes after it: `COPY users, line 1, column email`. */
const COPY_CONTEXT = /^(?:psql:\S*:\d+: )?CONTEXT:\s+(COPY [^,:\s]+, line \d+(?:, column [^:]+)?)(?::|$)/;

/**
 * What psql's or pg_dump's stderr may say in a failure message: its ERROR, FATAL or `error:` lines (values
 * masked) and where a COPY failed (`COPY users, line 1`), the last `lines` of them. Everything else is left out:
 * CONTEXT (a COPY error's row), DETAIL (a key's values), HINT, QUERY, STATEMENT and LINE (the SQL).
 */
export function pgErrorLines(stderr: string, lines = 3): string {
  const kept: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const copy = COPY_CONTEXT.exec(line);
    if (copy?.[1] !== undefined) kept.push(`CONTEXT: ${maskValues(copy[1])}`);
    else if (PG_ERROR.test(line)) kept.push(maskValues(line));
  }
  return kept.length === 0 ? '(no ERROR or FATAL line on its stderr)' : kept.slice(-lines).join(' / ');
}

/** Lines of PostgreSQL's that carry rows, values or SQL: CONTEXT, DETAIL, HINT, QUERY, STATEMENT, LINE n and its ^. */
const PG_DATA_LINE = /^(?:\S+:\d+: )?(CONTEXT|DETAIL|HINT|QUERY|STATEMENT|LINE \d+):|^\s*\^\s*$/;

/**
 * The end of a command's output for a failure message, when the output is kept nowhere else: the last `lines`
 * non-empty lines, PostgreSQL's CONTEXT/DETAIL/HINT/QUERY/STATEMENT/LINE lines left out, each line masked
 * (see maskValues) and cut short.
 */
export function maskedTail(output: string, lines = 3): string {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '' && !PG_DATA_LINE.test(l.trim()))
    .slice(-lines)
    .map((l) => maskValues(l.trim()))
    .join('\n');
}
