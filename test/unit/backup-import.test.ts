import { describe, expect, it } from 'vitest';
import { backupSpecSchema } from '../../common/backup';
import { CrlfToLf, importInputSchema, parseImportSource, SqlDumpShape, sqlDumpProblem } from '../../common/backup-import';
import { checkedManifest, MANIFEST_FORMAT } from '../../common/backup-manifest';
import { TarListing } from '../../common/tar-files';

/** Feeds `data` in chunks of `size` bytes. */
function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

const DUMP = [
  '--',
  '-- PostgreSQL database dump',
  '--',
  '',
  '\\restrict abc123',
  '-- Dumped from database version 16.4',
  '-- Dumped by pg_dump version 17.2',
  'SET statement_timeout = 0;',
  'COPY public.notes (id, body) FROM stdin;',
  '1\tCREATE is only data here\\r\\n',
  '\\.',
  '',
  '-- PostgreSQL database dump complete',
  '',
  '\\unrestrict abc123',
  '',
].join('\n');

describe('SqlDumpShape', () => {
  it.each([1, 2, 7, 4096])('reads a data-only dump in chunks of %i bytes: header, end, versions, no schema, LF', (size) => {
    const shape = new SqlDumpShape();
    for (const c of chunks(Buffer.from(DUMP), size)) shape.push(c);
    shape.end();
    expect(shape).toMatchObject({ header: true, complete: true, pgDump: '17.2', server: '16.4', createAt: undefined, crlf: false });
    expect(sqlDumpProblem(shape, 'data-only')).toBeUndefined();
    expect(sqlDumpProblem(shape, 'full')).toMatch(/holds no schema/);
  });

  it('tells CRLF throughout from CRLF in places, and reads the shape the same', () => {
    const all = new SqlDumpShape();
    for (const c of chunks(Buffer.from(DUMP.replace(/\n/g, '\r\n')), 3)) all.push(c);
    all.end();
    expect(all).toMatchObject({ header: true, complete: true, crlf: true });
    const some = new SqlDumpShape();
    some.push(Buffer.from(DUMP.replace('SET statement_timeout = 0;\n', 'SET statement_timeout = 0;\r\n')));
    some.end();
    expect(some.crlf).toBe(false);
  });

  it('refuses what is not pg_dump, a dump cut short, and the schema for a data-only target', () => {
    const of = (text: string) => {
      const shape = new SqlDumpShape();
      shape.push(Buffer.from(text));
      shape.end();
      return sqlDumpProblem(shape, 'data-only');
    };
    expect(of('hello\n')).toMatch(/not a plain SQL dump of pg_dump/);
    expect(of(DUMP.slice(0, DUMP.indexOf('\\.')))).toMatch(/truncated/);
    expect(of(DUMP.replace('SET statement_timeout = 0;', 'CREATE TABLE public.notes (id int);'))).toMatch(
      /holds the schema \(CREATE at line 8\)/,
    );
  });
});

describe('CrlfToLf', () => {
  it.each([1, 2, 3, 64])('makes every CR LF an LF in chunks of %i bytes, and keeps a lone CR', (size) => {
    const text = 'a\r\nb\r\n\r\nc\rd\r\n\r';
    const lines = new CrlfToLf();
    const out = Buffer.concat([...chunks(Buffer.from(text), size).map((c) => lines.push(c)), lines.end()]).toString();
    expect(out).toBe('a\nb\n\nc\rd\n\r');
  });
});

/** A tar header block for `name` (ustar, regular file of `size` bytes, or `type`), with its checksum. */
function header(name: string, size = 0, type = '0', link = ''): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  block.write('00000000000\0', 136);
  block.write(type, 156);
  block.write(link, 157, 100, 'utf8');
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.fill(0x20, 148, 156);
  const sum = block.reduce((a, b) => a + b, 0);
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}
const entry = (name: string, data: string) => {
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  body.write(data);
  return Buffer.concat([header(name, data.length), body]);
};
const archive = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.alloc(1024)]);
const listed = (data: Buffer, size = 100) => {
  const listing = new TarListing();
  for (const c of chunks(data, size)) listing.push(c);
  listing.end();
  return listing;
};

describe('TarListing', () => {
  it('lists an export_media.sh tar (./ entries) with its files, and no problem', () => {
    const tar = archive(
      header('./', 0, '5'),
      entry('./readme.txt', 'hello\n'),
      header('./link', 0, '2', 'readme.txt'),
      entry('./a/b.bin', 'x'.repeat(700)),
    );
    const listing = listed(tar, 77);
    expect(listing.problems).toEqual([]);
    expect(listing.files).toBe(2);
    expect(listing.entries).toBe(4);
  });

  it('refuses entries with .. or absolute paths, hard links out, text, and a tar cut inside an entry', () => {
    expect(listed(archive(entry('../escape', 'x'))).problems).toEqual([
      'entry "../escape": a path with .. (extracted, it would write outside the volume)',
    ]);
    expect(listed(archive(entry('/etc/cron.d/x', 'x'))).problems[0]).toMatch(/an absolute path/);
    expect(listed(archive(header('ok', 0, '1', '../../etc/shadow'))).problems[0]).toMatch(
      /hard link "ok" to "..\/..\/etc\/shadow": a path with \.\./,
    );
    expect(listed(Buffer.from('plain text\n'.repeat(100))).problems[0]).toMatch(/does not check out/);
    expect(listed(entry('./big', 'x'.repeat(2000)).subarray(0, 1000)).problems).toEqual(['the archive ends inside an entry: truncated']);
    expect(listed(Buffer.alloc(0)).problems).toEqual(['not a tar archive: it holds no entry']);
  });

  it('reads a GNU long name and a pax path, and checks those', () => {
    const long = 'x/'.repeat(60);
    const gnu = Buffer.concat([header('././@LongLink', long.length + 3, 'L'), Buffer.from(`${long}../\0`.padEnd(512, '\0'))]);
    expect(listed(archive(gnu, entry('short', 'y'))).problems[0]).toMatch(/a path with \.\./);
    const record = '17 path=/abs/olute\n';
    const pax = Buffer.concat([header('PaxHeader', record.length, 'x'), Buffer.from(record.padEnd(512, '\0'))]);
    expect(listed(archive(pax, entry('harmless', 'y'))).problems[0]).toMatch(/"\/abs\/olute": an absolute path/);
  });
});

describe('import input', () => {
  const spec = { name: 'legacy', targets: [{ kind: 'postgres', name: 'db' }], destination: { kind: 'local', dir: '/backups' } };
  it('takes a file under an absolute path or in S3, and refuses paths with .. or relative ones', () => {
    expect(parseImportSource('/backups/import/a.sql.gz')).toEqual({ kind: 'local', path: '/backups/import/a.sql.gz' });
    expect(parseImportSource('s3://old-bucket/2024/a.sql.gz')).toEqual({ kind: 's3', bucket: 'old-bucket', key: '2024/a.sql.gz' });
    expect(parseImportSource('/backups/../etc/passwd')).toEqual({ problem: expect.stringMatching(/without \. or \.\./) });
    expect(parseImportSource('a.sql.gz')).toEqual({ problem: expect.stringMatching(/an absolute path/) });
    expect(parseImportSource('s3://bkt/../x')).toEqual({ problem: expect.stringMatching(/S3 key/) });
  });

  it("refuses a target the spec lacks and a kind that is not the target's, naming the field", () => {
    const parse = (extra: Record<string, unknown>) =>
      importInputSchema.safeParse({ spec, target: 'db', kind: 'postgres', file: '/backups/a', ...extra });
    expect(parse({}).success).toBe(true);
    expect(parse({ target: 'media' }).error?.issues[0]).toMatchObject({
      path: ['target'],
      message: '"media" is not a target of backup legacy (it has db)',
    });
    expect(parse({ kind: 'mongo' }).error?.issues[0]).toMatchObject({
      path: ['kind'],
      message: 'mongo, but target db of backup legacy is postgres',
    });
  });
});

describe('the manifest of an imported run', () => {
  const run = '20261201T101500.123Z-1a2b3c4d';
  const manifest = {
    format: MANIFEST_FORMAT,
    backup: 'legacy',
    run,
    startedAt: '2026-12-01T10:15:00.123Z',
    finishedAt: '2026-12-01T10:15:09.000Z',
    spec: backupSpecSchema.parse({
      name: 'legacy',
      targets: [{ kind: 'postgres', name: 'db' }],
      destination: { kind: 'local', dir: '/b' },
    }),
    dumps: [
      {
        target: 'db',
        kind: 'postgres',
        file: `db-${run}.sql.gz`,
        bytes: 9,
        sha256: 'a'.repeat(64),
        tool: 'imported (pg_dump)',
        tables: {},
      },
    ],
    verified: true,
  };
  const imported = { from: '/b/import/x.sql.gz', sha256: 'b'.repeat(64), at: '2026-12-01T10:15:09.000Z', takenAt: '2024-03-01T03:00:00Z' };
  const check = (raw: unknown) => checkedManifest(raw, { backup: 'legacy', run });

  it('is valid with imported, as the manifests without it stay', () => {
    expect(check({ ...manifest, imported: { ...imported, repaired: ['CRLF line ends made LF'] } })).toHaveProperty('manifest');
    expect(check(manifest)).toHaveProperty('manifest');
  });

  it('is refused with an imported that does not check out, naming the field', () => {
    expect(check({ ...manifest, imported: { ...imported, sha256: 'xyz' } })).toEqual({
      problems: ['imported.sha256: a SHA-256 in hex (of the original file)'],
    });
    expect(check({ ...manifest, imported: { ...imported, at: 'yesterday' } })).toHaveProperty('problems');
    expect(check({ ...manifest, imported: { ...imported, extra: 1 } })).toHaveProperty('problems');
  });
});
