import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { CliProcess, runCli } from '../support/cli';
import { tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

// `sciops backup import` as an operator runs it: a worker process, a spec file, the seed runbook's
// `pg_dump --data-only | gzip` file under the worker's SCIOPS_BACKUP_DIR; then `backup list` and `restore`.
const exec = promisify(execFile);
const dir = tempDir('import-cli');
const name = `imp${Date.now().toString(36)}`;
let env: NodeJS.ProcessEnv;
let worker: CliProcess;
let specFile: string;
let dump: string;
const t = useTestbed({
  databases: ['importcli_src', 'importcli_dst'],
  before: async (t) => {
    const source = t.database('importcli_src');
    for (const db of [source, t.database('importcli_dst')]) await db.pool.query('create table notes (id int primary key, body text)');
    await source.pool.query("insert into notes select i, 'note ' || i from generate_series(1, 400) i");
    mkdirSync(path.join(dir, 'import'));
    dump = path.join(dir, 'import', 'multiomix_postgres_backup.sql.gz');
    await exec('bash', ['-o', 'pipefail', '-c', `pg_dump --data-only '${source.url}' | gzip > '${dump}'`]);
  },
});
const migrated = () => t.database('importcli_dst');

beforeAll(async () => {
  env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' };
  worker = new CliProcess(
    ['--queues', 'sciops,docker,db'],
    { ...env, SCIOPS_TEST_NOTES_DB: migrated().url, SCIOPS_BACKUP_DIR: dir, SCIOPS_RECOVERY_MINUTES: '0' },
    'worker',
  );
  await worker.waitFor(/polling sciops, docker, db/, 60_000);
  specFile = path.join(dir, 'backup.yaml');
  writeFileSync(
    specFile,
    stringify({
      name,
      targets: [{ kind: 'postgres', name: 'notes', urlEnv: 'SCIOPS_TEST_NOTES_DB' }],
      destination: { kind: 'local', dir },
    }),
  );
});

afterAll(async () => {
  await worker?.stop('SIGTERM', 30_000);
});

describe('sciops backup import', () => {
  it('imports the file as a run that backup list shows and restore restores', async () => {
    const args = [
      'backup',
      'import',
      dump,
      '--spec',
      specFile,
      '--target',
      'notes',
      '--kind',
      'postgres',
      '--taken-at',
      '2024-03-01T03:00:00Z',
    ];
    const imported = await runCli(args, env, 120_000);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('400 rows in 1 tables');
    const location = /imported as a complete run: (\S+)/.exec(imported.stdout)?.[1] as string;
    expect(location).toMatch(new RegExp(`^${dir}/${name}/\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}$`));
    expect((await runCli(['backup', 'list', specFile], env)).stdout).toContain(
      `${location}  notes  ${/(\d+) bytes/.exec(imported.stdout)?.[1]} bytes  verified  imported from ${dump} (taken 2024-03-01T03:00:00Z)`,
    );
    const restored = await runCli(['restore', location], env, 120_000);
    expect(restored.code).toBe(0);
    expect((await migrated().pool.query('select count(*)::int as n from notes')).rows[0].n).toBe(400);
  });

  it("refuses, as bad input and before any workflow starts, a kind that is not the target's and an unknown target", async () => {
    const before = readdirSync(path.join(dir, name)).sort();
    const kind = await runCli(['backup', 'import', dump, '--spec', specFile, '--target', 'notes', '--kind', 'mongo'], env);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('kind: mongo, but target notes of backup');
    const target = await runCli(['backup', 'import', dump, '--spec', specFile, '--target', 'media', '--kind', 'volume'], env);
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('target: "media" is not a target of backup');
    const backup = await runCli(
      ['backup', 'import', dump, '--spec', specFile, '--target', 'notes', '--kind', 'postgres', '--backup', 'other'],
      env,
    );
    expect(backup.code).toBe(2);
    expect(backup.stderr).toContain(`--backup: other, but ${specFile} is the spec of backup ${name}`);
    expect(readdirSync(path.join(dir, name)).sort()).toEqual(before);
  });

  it('refuses a file that is not a SQL dump with exit code 1, naming the file, and writes nothing', async () => {
    const before = readdirSync(path.join(dir, name)).sort();
    const text = path.join(dir, 'import', 'notes.txt');
    writeFileSync(text, 'not a dump\n');
    const refused = await runCli(['backup', 'import', text, '--spec', specFile, '--target', 'notes', '--kind', 'postgres'], env, 120_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${text}: not a plain SQL dump of pg_dump`);
    expect(readdirSync(path.join(dir, name)).sort()).toEqual(before);
  });
});
