import { describe, expect, it } from 'vitest';
import { backupSpecSchema } from '../../common/backup';
import { checkedManifest, MANIFEST_FORMAT, type Manifest, specDisagreements } from '../../common/backup-manifest';
import { parseInput } from '../../common/validate';

const run = '20261122T030000.000Z-1a2b3c4d';
const spec = parseInput(
  backupSpecSchema,
  {
    name: 'nightly',
    targets: [
      { kind: 'postgres', name: 'db', urlEnv: 'OMICS_URL' },
      { kind: 'volume', name: 'media', volume: 'omics_media' },
    ],
    destination: { kind: 'local', dir: '/var/backups/sciops' },
    stopServices: ['omics_web'],
  },
  'spec',
);
const manifest: Manifest = {
  format: MANIFEST_FORMAT,
  backup: 'nightly',
  run,
  startedAt: '2026-11-22T03:00:00.000Z',
  finishedAt: '2026-11-22T03:10:00.000Z',
  spec,
  dumps: [
    {
      target: 'db',
      kind: 'postgres',
      file: `db-${run}.sql.gz`,
      bytes: 10,
      sha256: 'a'.repeat(64),
      tool: 'pg_dump',
      tables: { 'public.t': 1 },
    },
    { target: 'media', kind: 'volume', file: `media-${run}.tar.gz`, bytes: 20, sha256: 'b'.repeat(64), tool: 'tar', files: 2 },
  ],
  verified: false,
};
const expected = { backup: 'nightly', run };
const problems = (raw: unknown) => {
  const checked = checkedManifest(JSON.parse(JSON.stringify(raw)), expected);
  return 'problems' in checked ? checked.problems : [];
};
const withDump = (i: number, patch: Record<string, unknown>) => ({
  ...manifest,
  dumps: manifest.dumps.map((d, j) => (j === i ? { ...d, ...patch } : d)),
});

describe('a manifest read from a store', () => {
  it('is accepted as the backup wrote it', () => {
    expect(checkedManifest(JSON.parse(JSON.stringify(manifest)), expected)).toEqual({ manifest });
  });

  it.each([
    ['../../../../etc/shadow', 'dumps[0].file: a plain file name inside the run (no /)'],
    ['..', 'dumps[0].file: a plain file name inside the run (no /)'],
    [`db-${run}..sql.gz`, 'dumps[0].file: a plain file name inside the run (no ..)'],
    ['/etc/shadow', 'dumps[0].file: a plain file name inside the run (no /)'],
    [`other-${run}.sql.gz`, `dumps[0].file: "other-${run}.sql.gz", but db's dump in this run is db-${run}.sql.gz`],
  ])('refuses the dump file name %j', (file, message) => {
    expect(problems(withDump(0, { file }))).toContain(message);
  });

  it('refuses dumps whose targets differ from its spec', () => {
    expect(problems(withDump(0, { target: 'web' }))).toEqual(['dumps[0].target: "web" is not a target of the manifest\'s spec']);
    expect(problems(withDump(1, { kind: 'postgres', tables: {} }))).toEqual([
      "dumps[1].kind: postgres, but the spec's target media is volume",
    ]);
    expect(problems(withDump(1, { target: 'db' }))).toContain('dumps[1].target: "db" has two dumps');
    expect(problems(withDump(0, { tables: undefined }))).toEqual(['dumps[0].tables: missing (a postgres dump records it)']);
  });

  it('refuses one that is not of this run, or not a manifest at all, naming the field', () => {
    expect(problems({ ...manifest, run: '20261122T040000.000Z-1a2b3c4d' })).toContain(
      'run: "20261122T040000.000Z-1a2b3c4d", but the folder is run 20261122T030000.000Z-1a2b3c4d',
    );
    expect(problems({ ...manifest, backup: 'other', spec: { ...spec, name: 'other' } })[0]).toBe(
      'backup: "other", but the folder is backup nightly\'s',
    );
    expect(problems({ dumps: [{ target: 'db', file: '../../../../etc/shadow' }], spec: { targets: [] } })).toEqual(
      expect.arrayContaining(['format: Invalid input: expected "sciops-backup/1"', expect.stringMatching(/^dumps\[0\]\.file: /)]),
    );
    expect(problems({ ...manifest, spec: { ...spec, targets: [{ kind: 'postgres', name: 'db', urlEnv: 'X', extra: 1 }] } })).toEqual([
      'spec.targets[0]: Unrecognized key: "extra"',
    ]);
    expect(problems({ ...manifest, dumps: [{ ...manifest.dumps[0], sha256: 'nope' }] })).toEqual(['dumps[0].sha256: a SHA-256 in hex']);
  });
});

describe('a manifest held to the spec the operator gives', () => {
  it('agrees when the targets are the same, whatever order their fields come in', () => {
    const reordered = { ...spec, targets: spec.targets.map((t) => Object.fromEntries(Object.entries(t).reverse())) } as typeof spec;
    expect(specDisagreements(manifest, reordered, ['db', 'media'])).toEqual([]);
  });

  it('names every chosen target the store points elsewhere', () => {
    const hostile = {
      ...manifest,
      spec: {
        ...spec,
        targets: [
          { kind: 'postgres' as const, name: 'db', urlEnv: 'DATABASE_URL', mode: 'full' as const },
          { kind: 'volume' as const, name: 'media', volume: 'sciops_secrets', image: 'attacker/tar:1' },
        ],
      },
    };
    expect(specDisagreements(hostile, spec, ['db'])).toEqual([
      'db: the manifest says {"kind":"postgres","mode":"full","name":"db","urlEnv":"DATABASE_URL"}, the spec says {"kind":"postgres","mode":"data-only","name":"db","urlEnv":"OMICS_URL"}',
    ]);
    expect(specDisagreements(hostile, spec, ['db', 'media'])).toHaveLength(2);
    expect(specDisagreements(manifest, { ...spec, name: 'weekly' }, [])).toEqual([
      'the spec is of backup weekly, the run of backup nightly',
    ]);
    expect(specDisagreements(manifest, { ...spec, targets: [spec.targets[1] as never] }, ['db'])).toEqual([
      'db: not a target of the given spec',
    ]);
  });
});
