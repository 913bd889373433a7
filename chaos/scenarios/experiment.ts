import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { experimentJobName } from '../../common/batch-jobs';
import type { ExperimentResult } from '../../common/experiment';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { engineActions, notTimes } from '../engine-events';
import { runCrashed, type Scenario, startWorkflow } from '../trial';
import { experimentPrefix, IMAGE } from '../world';

/** Printed once by each run of the experiment's command: twice in its stdout means it ran twice. */
const MARK = 'chaos-experiment-ran';

/**
 * An experiment on the docker backend (a container) or the swarm backend (a one-shot service), running
 * 1 to 4 s, crashed once: it must end COMPLETED, in one row counting one attempt, its container (and service)
 * made and started exactly once, its output saved once, and nothing of it left.
 */
export const experimentScenario: Scenario = {
  name: 'experiment',
  activities: 5,
  async run(world, trial) {
    const backend = trial.random.pick(['docker', 'swarm'] as const);
    const seconds = trial.random.int(1, 4);
    const id = `${experimentPrefix(world)}${trial.number}`;
    const spec = {
      id,
      type: 'chaos',
      backend,
      image: IMAGE,
      command: ['sh', '-c', `sleep ${seconds}; echo ${MARK}`],
      timeLimitSeconds: 300,
    };
    const handle = await startWorkflow(world, WorkflowType.runExperiment, experimentWorkflowId(id), spec);
    const { kill, end } = await runCrashed(world, trial, handle);
    const violations: string[] = [];
    if (!end.ok) violations.push(`the experiment workflow failed after the kill: ${end.error}`);
    else if ((end.value as ExperimentResult).state !== 'COMPLETED') {
      violations.push(`the experiment ended ${(end.value as ExperimentResult).state}: ${(end.value as ExperimentResult).message}`);
    }
    const label = `${EXPERIMENT_LABEL}=${id}`;
    const name = experimentJobName(id);
    // A swarm task's container runs on whichever node the swarm chose.
    const engines = backend === 'swarm' ? [world.docker, world.node2] : [world.docker];
    for (const [action, done] of [
      ['create', 'created'],
      ['start', 'started'],
    ] as const) {
      const ids: string[] = [];
      for (const engine of engines) {
        for (const [, some] of await engineActions(engine, trial.since, 'container', action, label)) ids.push(...some);
      }
      violations.push(...notTimes(new Map([[name, ids]]), [name], 1, `container ${done}`).map((v) => `experiment ${v}`));
    }
    if (backend === 'swarm') {
      violations.push(...notTimes(await engineActions(world.docker, trial.since, 'service', 'create'), [name], 1, 'service created'));
    }
    const { rows } = await world.env.database.pool.query<{ state: string; attempts: number }>(
      'select state, attempts from experiments where id = $1',
      [id],
    );
    if (rows.length !== 1) violations.push(`${rows.length} rows for experiment ${id} in the experiments table`);
    else if (rows[0]?.state !== 'COMPLETED' || rows[0]?.attempts !== 1) {
      violations.push(`experiment ${id}'s row: ${rows[0]?.state} after ${rows[0]?.attempts} attempts, not COMPLETED after 1`);
    }
    const stdout = path.join(world.outputs, id, 'stdout.txt');
    const marks = existsSync(stdout) ? readFileSync(stdout, 'utf8').split(MARK).length - 1 : 0;
    if (marks !== 1) violations.push(`experiment ${id}'s stdout.txt shows ${marks} runs`);
    if ((await world.docker.listServices({ filters: { label: [label] } })).length > 0) violations.push(`service ${name} left behind`);
    return { text: `${backend} experiment of ${seconds} s ${end.ok ? 'completed' : 'failed'}`, kill, violations };
  },
};
