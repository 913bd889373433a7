import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { type BackupReport, runPath } from '../../common/backup';
import { MANIFEST_FILE } from '../../common/backup-manifest';
import { WorkflowType } from '../../common/workflow-types';
import { incompleteLookingComplete } from '../complete-runs';
import { runCrashed, type Scenario, startWorkflow } from '../trial';
import { backupSpec } from '../world';

/** Rows per table as a dump's manifest records them (`schema.table`). */
async function rowCounts(pool: Pool): Promise<Record<string, number>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname = 'public' order by 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) counts[name] = Number((await pool.query(`select count(*) as n from ${name}`)).rows[0].n);
  return counts;
}

const sorted = (counts: Record<string, number>) => JSON.stringify(Object.entries(counts).sort());

/**
 * A backup of the data database with the app service paused (verified into a scratch database in about one
 * trial of three), crashed once: it must complete, its run complete and true to the data, and no run of the
 * backup may look complete without being so.
 */
export const backupScenario: Scenario = {
  name: 'backup',
  activities: 8,
  async run(world, trial) {
    const verify = trial.random.next() < 0.35;
    const spec = backupSpec(world, 'chaos', verify);
    const counts = await rowCounts(world.data.pool);
    const handle = await startWorkflow(world, WorkflowType.backup, `backup-${trial.name}`, spec);
    const { kill, end } = await runCrashed(world, trial, handle);
    const violations: string[] = [];
    if (!end.ok) violations.push(`the backup failed after the kill: ${end.error}`);
    else {
      const report = end.value as BackupReport;
      if (!existsSync(path.join(world.backups, runPath(spec.name, report.run), MANIFEST_FILE))) {
        violations.push(`the backup reported run ${report.run}, which has no manifest`);
      }
      const recorded = sorted(report.dumps[0]?.tables ?? {});
      if (recorded !== sorted(counts)) violations.push(`the run records rows ${recorded}, the database holds ${sorted(counts)}`);
    }
    const runs = incompleteLookingComplete(world.backups, spec.name);
    violations.push(...runs.problems);
    const what = `backup${verify ? ' with verify' : ''} ${end.ok ? 'completed' : 'failed'}`;
    return { text: `${what}; ${runs.complete} complete, ${runs.incomplete} incomplete runs in the store`, kill, violations };
  },
};
