import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { CliProcess, runCli } from '../support/cli';
import { eventually, tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

const dir = tempDir('backup-cli');
const CLI = path.resolve(__dirname, '../../dist/clients/cli.js');
const name = `cli${Date.now().toString(36)}`;
const schedule = `${name}-sched`;
let env: NodeJS.ProcessEnv;
let worker: CliProcess;
let file: string;
const t = useTestbed({
  databases: ['backupcli'],
  before: async (t) => {
    const db = t.database('backupcli');
    await db.pool.query('create table notes (id int primary key, body text)');
    await db.pool.query("insert into notes select i, 'note ' || i from generate_series(1, 500) i");
  },
});
const db = () => t.database('backupcli');

beforeAll(async () => {
  env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' };
  worker = new CliProcess(
    ['--queues', 'sciops,docker,db'],
    { ...env, SCIOPS_TEST_NOTES_DB: db().url, SCIOPS_RECOVERY_MINUTES: '0' },
    'worker',
  );
  await worker.waitFor(/polling sciops, docker, db/, 60_000);
  file = path.join(dir, 'backup.yaml');
  writeFileSync(
    file,
    stringify({
      name,
      targets: [{ kind: 'postgres', name: 'notes', urlEnv: 'SCIOPS_TEST_NOTES_DB' }],
      destination: { kind: 'local', dir: path.join(dir, 'out') },
    }),
  );
});

afterAll(async () => {
  await runCli(['backup', 'schedule', 'delete', schedule], env).catch(() => undefined);
  await worker?.stop('SIGTERM', 30_000);
});

describe('sciops backup and restore', () => {
  let location: string;

  it('backup run prints the location; backup list shows it; restore refuses without --force and restores with it', async () => {
    const ran = await runCli(['backup', 'run', file], env, 120_000);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    location = (/backup complete: (\S+)/.exec(ran.stdout)?.[1] ?? '') as string;
    expect(location).toMatch(new RegExp(`/out/${name}/\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}$`));

    const listed = await runCli(['backup', 'list', file], env);
    expect(listed.stdout).toContain(`${location}  notes`);

    const refused = await runCli(['restore', location], env, 120_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('targets hold data: notes (rows in 1 table)');

    await db().pool.query('delete from notes where id > 100');
    const restored = await runCli(['restore', location, '--force'], env, 120_000);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('restored notes from');
    expect((await db().pool.query('select count(*)::int as n from notes')).rows[0].n).toBe(500);
  });

  it('restore refuses a location that names no run, as bad input', async () => {
    const bad = await runCli(['restore', 'backups/latest'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('does not end in <backup>/<run id>');
  });

  it('schedules: create, list, pause, trigger, unpause, delete', async () => {
    const bad = await runCli(['backup', 'schedule', 'create', schedule, file, '--cron', 'daily'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a cron expression');
    expect((await runCli(['backup', 'schedule', 'create', schedule, file, '--cron', '0 3 * * *'], env)).code).toBe(0);
    expect((await runCli(['backup', 'schedule', 'pause', schedule], env)).code).toBe(0);
    expect((await runCli(['backup', 'schedule', 'list'], env)).stdout).toMatch(new RegExp(`${schedule}\\s+paused`));
    const before = (await runCli(['backup', 'list', file], env)).stdout.trim().split('\n').length;
    expect((await runCli(['backup', 'schedule', 'trigger', schedule], env)).code).toBe(0);
    await eventually('the triggered backup', 60_000, async () => {
      const after = (await runCli(['backup', 'list', file], env)).stdout.trim().split('\n').length;
      return after > before ? true : undefined;
    });
    expect((await runCli(['backup', 'schedule', 'unpause', schedule], env)).code).toBe(0);
    expect((await runCli(['backup', 'schedule', 'list'], env)).stdout).toMatch(new RegExp(`${schedule}\\s+active\\s+next: 20`));
    expect((await runCli(['backup', 'schedule', 'delete', schedule], env)).code).toBe(0);
    const gone = await runCli(['backup', 'schedule', 'pause', schedule], env);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('no backup schedule of this name');
  });

  it('on a terminal, backup run shows each step and redraws a live status line (in a pipe, as above, it is quiet)', async () => {
    const verified = path.join(dir, 'verified.yaml');
    writeFileSync(
      verified,
      stringify({
        name: `${name}-tty`,
        targets: [{ kind: 'postgres', name: 'notes', urlEnv: 'SCIOPS_TEST_NOTES_DB' }],
        destination: { kind: 'local', dir: path.join(dir, 'out') },
        verify: true, // a restore into a scratch database: long enough to be seen running
      }),
    );
    // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
    const tty = spawnSync('script', ['-qefc', `${process.execPath} ${CLI} backup run ${verified}`, '/dev/null'], {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tty.status, tty.stdout).toBe(0);
    expect(tty.stdout).toMatch(/\[\d+s\] dump: (running \(notes\)|done \(1 files\))/);
    expect(tty.stdout).toMatch(/\[\d+s\] verify: done/);
    // The status line: drawn after an erase of the line (carriage return, ESC [2K), `… <step> · <elapsed>`.
    const drawn = tty.stdout.split('\r\u001b[2K').filter((part) => part.startsWith('… '));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn[0]).toMatch(/^… \S.* · \d+s/);
    expect(tty.stdout).toContain('backup complete and verified: ');
    // What the terminal shows at the end: the status line was erased, the last step line is followed by the report.
    const screen = screenOf(tty.stdout);
    expect(screen.split('\n').filter((l) => l.startsWith('… '))).toEqual([]);
    expect(screen).toMatch(/\[\d+s\] prune: done \(0 removed\)\nnotes +\d+ bytes/);
  });
});

/** The text a terminal is left showing: `\r ESC[2K` clears the line being written, `\r\n` is a newline. */
function screenOf(raw: string): string {
  return raw
    .replace(/\r\n/g, '\n')
    .split('\r\u001b[2K')
    .reduce((shown, part) => shown.slice(0, shown.lastIndexOf('\n') + 1) + part, '');
}
