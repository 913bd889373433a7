import Dockerode from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ExperimentResult, experimentSpecSchema } from '../../common/experiment';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { parseInput } from '../../common/validate';
import { eventually, runExperiment, startExperiment, tempDir, uniqueId } from '../support/experiments';
import { useTestbed } from '../support/harness';

// Review M10: a stop or an expired soft limit never leaves a run behind, a stop during registration is
// recorded, and a re-run after a crash gets the rest of its soft limit, not all of it again.
const t = useTestbed({
  databases: ['sciops_stop_races'],
  workers: (t) => [
    {
      queues: ['sciops', 'docker', 'db'],
      env: { DATABASE_URL: t.database('sciops_stop_races').url, SCIOPS_EXPERIMENTS_DIR: tempDir('stop-races') },
    },
  ],
});
const { docker } = t;
const db = () => t.database('sciops_stop_races');

const spec = (name: string, extra: Record<string, unknown> = {}) => ({
  id: uniqueId(name),
  type: 'races',
  image: 'local/busybox:1',
  command: ['sleep', '60'],
  stopGraceSeconds: 1,
  ...extra,
});

const containersOf = (id: string) => docker.listContainers({ all: true, filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });

beforeAll(async () => {
  // The first registration makes the experiments table, which the registration test locks.
  await runExperiment(t.client, spec('first', { command: ['true'] }));
});

describe('stop and time-limit races (M10)', () => {
  it('a soft limit that passes while the container is still being created stops the container made after it', async () => {
    // The engine takes 4 s to create containers in this test: the 1 s limit passes first.
    const create = Dockerode.prototype.createContainer;
    Dockerode.prototype.createContainer = async function (this: Dockerode, ...args: Parameters<typeof create>) {
      await new Promise((r) => setTimeout(r, 4000));
      return create.apply(this, args);
    } as typeof create;
    const s = spec('limit-before-create', { timeLimitSeconds: 1 });
    try {
      const result = await runExperiment(t.client, s);
      expect(result.state).toBe('TIMEOUT_EXCEEDED');
    } finally {
      Dockerode.prototype.createContainer = create;
    }
    // The container the slow create made is stopped and removed with the run, not left running for 60 s.
    await eventually('no container of the run', 15_000, async () => ((await containersOf(s.id)).length === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 5000));
    expect(await containersOf(s.id)).toEqual([]);
  });

  it('a stop during registration is recorded STOPPED, not left PENDING for recovery to start', async () => {
    const s = spec('stop-registering');
    const lock = await db().pool.connect();
    try {
      await lock.query('begin');
      await lock.query('lock table experiments in access exclusive mode');
      const handle = await startExperiment(t.client, s);
      // Registration is under way (blocked on the table) when the stop comes.
      await eventually('registration to start', 15_000, async () => {
        const { pendingActivities } = await handle.describe().then((d) => d.raw);
        return pendingActivities?.some((a) => a.activityType?.name === 'registerExperiment' && a.state === 2) ? true : undefined;
      });
      await handle.cancel();
      await lock.query('commit');
      const result = (await handle.result()) as ExperimentResult;
      expect(result.state).toBe('STOPPED');
    } finally {
      await lock.query('rollback').catch(() => undefined);
      lock.release();
    }
    const { rows } = await db().pool.query('select state from experiments where id = $1', [s.id]);
    expect(rows).toEqual([{ state: 'STOPPED' }]);
    expect(await containersOf(s.id)).toEqual([]);
  });

  it('a re-run of an experiment IN_PROCESS for 25 s of its 30 s limit gets the 5 s left', async () => {
    const s = spec('rerun-limit', { timeLimitSeconds: 30 });
    // What a crashed run leaves: the row IN_PROCESS since it took its slot 25 s ago.
    const stored = parseInput(experimentSpecSchema, s, 'spec');
    await db().pool.query(
      `insert into experiments (id, type, spec, state, attempts, started_at) values ($1, $2, $3, 'IN_PROCESS', 1, now() - interval '25 seconds')`,
      [s.id, s.type, JSON.stringify(stored)],
    );
    const started = Date.now();
    const result = await runExperiment(t.client, s);
    expect(result.state).toBe('TIMEOUT_EXCEEDED');
    expect(result.attempts).toBe(2);
    // All of it again would be 30 s; the rest is 5 s, plus the stop's grace and the container's start.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
