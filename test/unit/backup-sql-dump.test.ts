import { describe, expect, it } from 'vitest';
import { copiedTable, restrictedTransaction, SqlDumpLines } from '../../common/backup-sql-dump';

const KEY = 'dx56sqDvSE47UR5B6c5CHhA8AV6KE1YnddbV75ycoIJ7U3omvNZpU8b05A1CZa';
/** What pg_dump 15.18 writes for a data-only dump, with data that looks like meta-commands. */
const dump = (body: string) => `--
-- PostgreSQL database dump
--

\\restrict ${KEY}

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);

${body}
--
-- PostgreSQL database dump complete
--

\\unrestrict ${KEY}

`;
const COPY = `COPY public.t (id, s) FROM stdin;
1\ta\\\\b
2\t\\! touch /tmp/pwned
\\restrict x
\\.

`;

/** Runs text through the scanner in chunks of `size` bytes; returns what it passes on and its problems. */
function scan(text: string, size = 1 << 16): { out: string; problems: string[]; rows: Record<string, number> } {
  const lines = new SqlDumpLines();
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...lines.push(bytes.subarray(i, i + size)));
  out.push(...lines.end());
  return { out: Buffer.concat(out).toString(), problems: lines.problems, rows: lines.rows };
}

describe('a SQL dump read before psql is given it', () => {
  it('passes what pg_dump writes, without its own \\restrict pair, however it is split into chunks', () => {
    const text = dump(COPY);
    const whole = scan(text);
    expect(whole.problems).toEqual([]);
    expect(whole.out).toBe(text.replace(`\\restrict ${KEY}\n`, '').replace(`\\unrestrict ${KEY}\n`, ''));
    // COPY data is data: backslashes in it are never meta-commands, and it is passed on untouched.
    expect(whole.out).toContain('2\t\\! touch /tmp/pwned\n\\restrict x\n\\.\n');
    for (const size of [1, 2, 3, 7, 64, 300]) expect(scan(text, size)).toEqual(whole);
  });

  it('counts the rows of each COPY block as they pass, whatever the chunks: what the manifest records of a dump', () => {
    const long = 'x'.repeat(700);
    const text = dump(
      `${COPY}COPY "Omics"."Gene ""A""" (id, note) FROM stdin;\n1\t${long}\n2\tb\n\\.\n\nCOPY public.empty (id) FROM stdin;\n\\.\n\n` +
        `COPY public.gène (id) FROM stdin;\n1\n\\.\n`,
    );
    const whole = scan(text);
    expect(whole.problems).toEqual([]);
    expect(whole.rows).toEqual({ 'public.t': 3, 'Omics.Gene "A"': 2, 'public.empty': 0, 'public.gène': 1 });
    for (const size of [1, 5, 64, 300]) expect(scan(text, size).rows).toEqual(whole.rows);
  });

  it('names the table of a COPY line as pg_class does: unquoted, "" for a quote; no name for another shape', () => {
    expect(copiedTable('COPY public.samples (id, name) FROM stdin;')).toBe('public.samples');
    expect(copiedTable('COPY "My Schema"."a.b" (id) FROM stdin;')).toBe('My Schema.a.b');
    expect(copiedTable('COPY public.t  FROM stdin;')).toBe('public.t');
    expect(copiedTable('COPY t (id) FROM stdin;')).toBeUndefined();
    expect(copiedTable('COPY public."unterminated (id) FROM stdin;')).toBeUndefined();
  });

  it('passes dumps older pg_dumps wrote, without the pair', () => {
    const old = `SET statement_timeout = 0;\n${COPY}`;
    expect(scan(old)).toEqual({ out: old, problems: [], rows: { 'public.t': 3 } });
  });

  it.each([
    ['\\! touch /tmp/pwned\n', 'line 13: psql meta-command \\! (pg_dump writes none there)'],
    ["\\copy public.t to program 'sh -c id'\n", 'line 13: psql meta-command \\copy (pg_dump writes none there)'],
    ['\\i /etc/passwd\n', 'line 13: psql meta-command \\i (pg_dump writes none there)'],
    ['   \\! id\n', 'line 13: psql meta-command \\! (pg_dump writes none there)'],
    ['select 1; \\! id\n', 'line 13: psql meta-command \\! (pg_dump writes none there)'],
    ["select 'a'; \\gexec\n", 'line 13: psql meta-command \\gexec (pg_dump writes none there)'],
    [`\\unrestrict ${KEY}\n\\! id\n`, 'line 14: psql meta-command \\! (pg_dump writes none there)'],
    ['\\restrict other\n', 'line 13: psql meta-command \\restrict (pg_dump writes none there)'],
    ['\\.\n', 'line 13: psql meta-command \\. (pg_dump writes none there)'],
  ])('finds %j', (body, problem) => {
    expect(scan(dump(body)).problems[0]).toBe(problem);
  });

  it('finds SQL after an early \\unrestrict, and a dump that ends inside COPY data', () => {
    expect(scan(dump(`\\unrestrict ${KEY}\nselect 1;\n`)).problems).toContain('line 14: SQL after \\unrestrict (pg_dump writes it last)');
    expect(scan('COPY public.t (id) FROM stdin;\n1\n2').problems).toEqual(['the dump ends inside COPY data (line 3): truncated']);
  });

  it('follows quotes, dollar quotes and comments as psql does: a backslash inside them is not a command', () => {
    const body = [
      "COMMENT ON TABLE public.t IS 'line one",
      "\\! not a command, inside a string';",
      'CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS $body$',
      "  select '\\d' -- $$ inside",
      '\\! still the body',
      '$body$;',
      "SELECT E'it\\'s \\\\', 'it''s', \"odd\"\"name\\\";",
      '/* a comment /* nested */ \\! still comment */ SELECT 1; -- \\! a comment',
      "SELECT $1, x$y FROM t WHERE a = E'\\\\' ;",
      '',
    ].join('\n');
    expect(scan(dump(body)).problems).toEqual([]);
    expect(scan(dump(`${body}\\! now it is\n`)).problems).toEqual(['line 22: psql meta-command \\! (pg_dump writes none there)']);
    // A COPY line inside a dollar quote starts no COPY data.
    expect(scan(dump('SELECT $q$\nCOPY t (a) FROM stdin;\n$q$;\n\\! id\n')).problems).toEqual([
      'line 16: psql meta-command \\! (pg_dump writes none there)',
    ]);
  });
});

describe('the input psql is given for a restore', () => {
  async function text(parts: Array<Buffer | string[]>, ready = () => undefined): Promise<string> {
    const given = parts.map((p) =>
      Buffer.isBuffer(p)
        ? p
        : (async function* () {
            for (const s of p) yield Buffer.from(s);
          })(),
    );
    let out = '';
    for await (const chunk of restrictedTransaction(given, 'k'.repeat(16), ready)) out += chunk.toString();
    return out;
  }

  it('restricts the session, then runs everything in one transaction committed last', async () => {
    const sql = await text([Buffer.from('truncate t;\n'), [dump(COPY)]]);
    expect(sql.startsWith(`\\restrict ${'k'.repeat(16)}\nset client_min_messages = warning;\nbegin;\ntruncate t;\n`)).toBe(true);
    expect(sql.endsWith('\ncommit;\n')).toBe(true);
    expect(sql).not.toContain(KEY);
  });

  it('never reaches COMMIT when a line is refused or the check before it fails', async () => {
    await expect(text([[dump('\\! touch /tmp/pwned\n')]])).rejects.toThrow(
      'not what pg_dump writes: line 13: psql meta-command \\! (pg_dump writes none there)',
    );
    await expect(
      text([[dump(COPY)]], () => {
        throw new Error('its SHA-256 differs');
      }),
    ).rejects.toThrow('its SHA-256 differs');
    await expect(text([], () => undefined)).resolves.toMatch(/commit;\n$/);
  });
});
