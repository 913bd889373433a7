import { describe, expect, it } from 'vitest';
import { compatibleDump } from '../../activities/db/pg-dump-compat';
import { settingUnknownTo } from '../../common/pg-version';

// The head of a dump pg_dump 17.12 wrote of a PostgreSQL 15 server (Debian 13's client, the workers image's).
const HEAD = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict voqHVBM7gJ274H7RAcdzSaNaC1j0N0sBgJ6IYb9FOegH2VOIBhdRjaJmUOu1A7d',
  '',
  '-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)',
  '-- Dumped by pg_dump version 17.12 (Debian 17.12-0+deb13u1)',
  '',
  'SET statement_timeout = 0;',
  'SET lock_timeout = 0;',
  'SET idle_in_transaction_session_timeout = 0;',
  'SET transaction_timeout = 0;',
  "SET client_encoding = 'UTF8';",
  "SELECT pg_catalog.set_config('search_path', '', false);",
  'SET row_security = off;',
  '',
];
const BODY = ['COPY public.notes (id, body) FROM stdin;', '1\tSET transaction_timeout = 0;', '\\.', ''];

async function through(chunks: string[], server: number): Promise<string> {
  const out: Buffer[] = [];
  async function* source() {
    for (const c of chunks) yield Buffer.from(c, 'utf8');
  }
  for await (const b of compatibleDump(source(), server)) out.push(b);
  return Buffer.concat(out).toString('utf8');
}

describe('settingUnknownTo', () => {
  it("is pg_dump 17's SET transaction_timeout for servers before 17 only", () => {
    expect(settingUnknownTo('SET transaction_timeout = 0;', 160004)).toBe(true);
    expect(settingUnknownTo('SET transaction_timeout = 0;\r', 150018)).toBe(true);
    expect(settingUnknownTo('SET transaction_timeout = 0;', 170000)).toBe(false);
    expect(settingUnknownTo('SET lock_timeout = 0;', 150018)).toBe(false);
    expect(settingUnknownTo('1\tSET transaction_timeout = 0;', 150018)).toBe(false);
  });
});

describe('compatibleDump', () => {
  const dump = [...HEAD, ...BODY].join('\n');

  it('blanks the header settings an older server lacks, and leaves every other byte, rows included', async () => {
    const out = await through([dump], 160004);
    expect(out.split('\n')).toEqual([...HEAD.map((l) => (l === 'SET transaction_timeout = 0;' ? '' : l)), ...BODY]);
  });

  it('passes the dump through unchanged for a server that has them', async () => {
    expect(await through([dump], 170006)).toBe(dump);
  });

  it('finds the line however the stream is cut, and keeps CR LF line ends', async () => {
    const crlf = dump.replace(/\n/g, '\r\n');
    const pieces = crlf.match(/[\s\S]{1,7}/g) as string[];
    const out = await through(pieces, 150018);
    expect(out).toBe(crlf.replace('SET transaction_timeout = 0;\r\n', '\r\n'));
  });

  it('never touches a line after the header, nor the bytes of a large dump past its head', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i}\tSET transaction_timeout = 0;`).join('\n');
    const big = `${BODY[0]}\n${rows}\n\\.\n`;
    expect(await through([big.slice(0, 100), big.slice(100)], 150018)).toBe(big);
  });
});
