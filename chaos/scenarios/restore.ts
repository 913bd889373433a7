import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Pool } from 'pg';
import { dumpFileName, runId, runPath } from '../../common/backup';
import { MANIFEST_FILE, type Manifest } from '../../common/backup-manifest';
import { WorkflowType } from '../../common/workflow-types';
import type { Random } from '../random';
import { digestDifferences, tableDigests } from '../table-digests';
import { runCrashed, type Scenario, startWorkflow, type Trial } from '../trial';
import type { World } from '../world';

/** Changes some of every table, so that a restore has something to put back. */
async function changeData(pool: Pool): Promise<void> {
  await pool.query(`
    update samples set value = value + 1 where id % 7 = 0;
    delete from measurements where id % 11 = 0;
    insert into samples select m + g, 'late-' || g, random() from (select max(id) as m from samples) s, generate_series(1, 50) g;`);
}

/** The restore of a run, over the data (force), with the trial's kill. */
async function crashedRestore(world: World, trial: Trial, backup: string, run: string) {
  const input = { destination: world.baseline.spec.destination, backup, run, force: true };
  return runCrashed(world, trial, await startWorkflow(world, WorkflowType.restore, `restore-${trial.name}`, input));
}

/** A restore of the baseline run over changed data, crashed once: it must complete, the data equal to the run's. */
export const restoreScenario: Scenario = {
  name: 'restore',
  activities: 6,
  async run(world, trial) {
    await changeData(world.data.pool);
    const before = await tableDigests(world.data.pool);
    const { kill, end } = await crashedRestore(world, trial, world.baseline.spec.name, world.baseline.run);
    const after = await tableDigests(world.data.pool);
    const violations: string[] = [];
    if (end.ok) violations.push(...digestDifferences(world.baseline.digests, after, 'in the backup restored'));
    else {
      violations.push(`the restore failed after the kill: ${end.error}`);
      violations.push(...digestDifferences(before, after, 'before the failed restore'));
    }
    return { text: `restore ${end.ok ? 'completed' : 'failed'}`, kill, violations };
  },
};

/** What is wrong with a broken copy of the baseline run. */
const INJECTIONS = {
  /** Bytes flipped inside the file: its checksum is not the manifest's, refused before anything changes. */
  'flipped byte': (gz: Buffer) => {
    const bad = Buffer.from(gz);
    const at = Math.floor(bad.length / 2);
    bad[at] = (bad[at] as number) ^ 0xff;
    return { file: bad, rechecksum: false };
  },
  /** A row twice (the manifest's checksum made to match): psql fails on the primary key mid-restore. */
  'duplicate row': (gz: Buffer) => {
    const lines = gunzipSync(gz).toString('utf8').split('\n');
    const copy = lines.findIndex((l) => l.startsWith('COPY public.samples '));
    if (copy < 0) throw new Error('the baseline dump has no COPY of public.samples');
    lines.splice(copy + 1, 0, lines[copy + 1] as string);
    return { file: gzipSync(Buffer.from(lines.join('\n'))), rechecksum: true };
  },
} as const;

/**
 * A copy of the baseline run, as backup `chaos-bad`, with its dump broken the chosen way; a manifest that
 * checks out (of its backup and run, its file names). Returns the run id.
 */
function brokenRun(world: World, random: Random, injection: keyof typeof INJECTIONS): string {
  const { backups, baseline } = world;
  const source = path.join(backups, runPath(baseline.spec.name, baseline.run));
  const manifest = JSON.parse(readFileSync(path.join(source, MANIFEST_FILE), 'utf8')) as Manifest;
  const dump = manifest.dumps[0] as Manifest['dumps'][number];
  const target = baseline.spec.targets[0] as Manifest['spec']['targets'][number];
  const backup = 'chaos-bad';
  const run = runId(new Date(), random.int(0, 0xffffffff).toString(16).padStart(8, '0'));
  const broken = INJECTIONS[injection](readFileSync(path.join(source, dump.file)));
  const file = dumpFileName(target, run);
  const folder = path.join(backups, runPath(backup, run));
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, file), broken.file);
  const checksum = broken.rechecksum
    ? { bytes: broken.file.length, sha256: createHash('sha256').update(broken.file).digest('hex') }
    : { bytes: dump.bytes, sha256: dump.sha256 };
  const forged: Manifest = { ...manifest, backup, run, spec: { ...manifest.spec, name: backup }, dumps: [{ ...dump, file, ...checksum }] };
  writeFileSync(path.join(folder, MANIFEST_FILE), JSON.stringify(forged, null, 2));
  return run;
}

/**
 * A restore of a broken run (a corrupted file, or a dump that fails in psql after the safety backup was
 * taken), crashed once: it must fail, and the data be exactly what it was before (rolled back).
 */
export const brokenRestoreScenario: Scenario = {
  name: 'restore-broken',
  activities: 7,
  async run(world, trial) {
    const injection = trial.random.pick(Object.keys(INJECTIONS) as Array<keyof typeof INJECTIONS>);
    await changeData(world.data.pool);
    const run = brokenRun(world, trial.random, injection);
    const before = await tableDigests(world.data.pool);
    const { kill, end } = await crashedRestore(world, trial, 'chaos-bad', run);
    const violations = digestDifferences(before, await tableDigests(world.data.pool), 'before the failed restore');
    if (end.ok) violations.unshift(`the restore of a dump with a ${injection} completed`);
    return {
      text: `restore of a dump with a ${injection} ${end.ok ? 'completed' : `failed: ${end.error.slice(0, 100)}`}`,
      kill,
      violations,
    };
  },
};
