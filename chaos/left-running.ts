import { EXPERIMENT_LABEL, PAUSED_BY_LABEL, REPLICAS_LABEL } from '../common/labels';
import type { KillReport } from './kill-moment';
import { stillRunning } from './processes';
import { experimentPrefix, runningTasks, type World } from './world';

/** Polls `check` (a list of problems) until it is empty or `ms` pass; returns what is left. */
async function settled(ms: number, check: () => Promise<string[]>): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const problems = await check();
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The app service is back at its replicas, unlabelled, its tasks running (within 30 s: tasks take a moment). */
export function appBack(world: World): Promise<string[]> {
  return settled(30_000, async () => {
    const info = await world.docker.getService(world.app.name).inspect();
    const replicas = info.Spec?.Mode?.Replicated?.Replicas;
    const labels = (info.Spec?.Labels ?? {}) as Record<string, string>;
    const problems: string[] = [];
    if (replicas !== world.app.replicas)
      problems.push(`paused service ${world.app.name} at ${replicas} replicas, not ${world.app.replicas}`);
    for (const label of [REPLICAS_LABEL, PAUSED_BY_LABEL]) {
      if (label in labels) problems.push(`paused service ${world.app.name} still labelled ${label}=${labels[label]}`);
    }
    const running = await runningTasks(world.docker, world.app.name);
    if (problems.length === 0 && running !== world.app.replicas) problems.push(`paused service ${world.app.name} runs ${running} tasks`);
    return problems;
  });
}

/** The scratch databases of verifications on the testbed's server now (other checkouts' tests make them too). */
export async function verifyDatabases(world: World): Promise<Set<string>> {
  const { rows } = await world.data.pool.query<{ datname: string }>(
    "select datname from pg_database where datname like 'sciops\\_verify\\_%'",
  );
  return new Set(rows.map((r) => r.datname));
}

/**
 * Nothing a trial started is still going (given 15 s to wind down): no open workflow (locks included), no
 * process the killed worker had started, no container of this run's experiments, no scratch database of a
 * verification that was not there before the trial.
 */
export function nothingLeftRunning(world: World, kill: KillReport, verifyBefore: ReadonlySet<string>): Promise<string[]> {
  return settled(15_000, async () => {
    const problems: string[] = [];
    for await (const w of world.env.client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      problems.push(`workflow ${w.workflowId} (${w.type}) still running`);
    }
    for (const p of stillRunning(kill.kill?.orphans ?? [])) {
      problems.push(`${p.command} (pid ${p.pid}), started by the killed ${kill.kill?.worker} worker, still running`);
    }
    const containers = await world.docker.listContainers({ filters: { label: [EXPERIMENT_LABEL] } });
    for (const c of containers.filter((c) => c.Labels[EXPERIMENT_LABEL]?.startsWith(experimentPrefix(world)))) {
      problems.push(`experiment container ${c.Names?.[0]} still running`);
    }
    for (const name of await verifyDatabases(world)) {
      if (!verifyBefore.has(name)) problems.push(`scratch database ${name} of a verification left behind`);
    }
    return problems;
  });
}
