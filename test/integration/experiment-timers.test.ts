import { Context } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../common/experiment';
import { type ExperimentState, ExperimentState as State } from '../../common/experiment-state';
import { Queue } from '../../common/queues';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { useTimeSkippingServer, withStubbedActivities } from '../support/time-skipping';

// The experiment workflow's timers with its activities stubbed, on the time-skipping test server: what the
// workflow asked of its activities, in which order and at which (server) time, is what these tests check.

const server = useTimeSkippingServer();

const TYPE = 'correlation_analysis';

function spec(id: string) {
  return { id, type: TYPE, image: 'local/busybox:1', command: ['sleep', '1'] };
}

function row(id: string, state: ExperimentState, attempts = 1): ExperimentResult {
  return { id, type: TYPE, state, attempts };
}

/** The db and docker activities of one docker-backend experiment; `calls` records each with the test clock's ms. */
function stubs(options: { slotAfterAsks: number; timeLimitSeconds: number; run: () => Promise<{ exitCode: number; outputDir: string }> }) {
  const calls: { name: string; at: number; state?: string }[] = [];
  const record = async (name: string, state?: string) => {
    calls.push({ name, at: (await server.env.currentTimeMs()) as number, ...(state === undefined ? {} : { state }) });
  };
  let asks = 0;
  const db = {
    async registerExperiment(input: { spec: { id: string } }) {
      await record('registerExperiment');
      return { row: row(input.spec.id, State.pending), timeLimitSeconds: options.timeLimitSeconds, waitingFor: `the ${TYPE} cap of 1` };
    },
    async claimExperimentSlot() {
      asks += 1;
      await record('claimExperimentSlot');
      return asks >= options.slotAfterAsks ? {} : { waitingFor: `the ${TYPE} cap of 1` };
    },
    async finishExperiment(input: { id: string; state: ExperimentState; message?: string }) {
      await record('finishExperiment', input.state);
      return { result: { ...row(input.id, input.state), ...(input.message === undefined ? {} : { message: input.message }) }, waiting: [] };
    },
  };
  const docker = {
    async engineNode() {
      return {};
    },
    async checkExperimentSpec() {
      return { refusals: [] };
    },
    async runExperimentContainer() {
      await record('runExperimentContainer');
      return options.run();
    },
    async stopExperimentContainer(input: { spec: { id: string } }) {
      await record('stopExperimentContainer');
      return { exitCode: 137, outputDir: `/experiments/${input.spec.id}` };
    },
    async removeExperimentContainer() {
      await record('removeExperimentContainer');
    },
  };
  return { calls, activities: { [Queue.db]: db, [Queue.docker]: docker } };
}

/** Runs experiment `id` to its end against `activities`: its recorded result. */
function runExperiment(id: string, activities: Record<string, object>): Promise<ExperimentResult> {
  return withStubbedActivities(server.env, activities, () =>
    server.env.client.workflow.execute('runExperiment', {
      args: [spec(id)],
      taskQueue: Queue.workflows,
      workflowId: experimentWorkflowId(id),
    }),
  );
}

describe('experiment timers (time-skipping server, stubbed activities)', () => {
  it('a waiting experiment asks for its slot again every minute when no slotFreed signal comes', async () => {
    const { calls, activities } = stubs({
      slotAfterAsks: 3,
      timeLimitSeconds: 3600,
      run: async () => ({ exitCode: 0, outputDir: '/experiments/x' }),
    });
    const result = await runExperiment('recheck-1', activities);
    expect(result.state).toBe(State.completed);
    const asks = calls.filter((c) => c.name === 'claimExperimentSlot').map((c) => c.at);
    expect(asks).toHaveLength(3);
    const registered = calls[0]?.at as number;
    // Each ask comes a minute after the one before (the first a minute after registering), never sooner.
    asks.forEach((at, i) => {
      const since = at - (i === 0 ? registered : (asks[i - 1] as number));
      expect(since).toBeGreaterThanOrEqual(60_000);
      // While a workflow or activity task is in flight the server's clock runs in real time: some slack.
      expect(since).toBeLessThan(65_000);
    });
    expect(calls.map((c) => c.name)).toEqual([
      'registerExperiment',
      'claimExperimentSlot',
      'claimExperimentSlot',
      'claimExperimentSlot',
      'runExperimentContainer',
      'finishExperiment',
      'removeExperimentContainer',
    ]);
  });

  it('a run past its soft time limit is stopped and recorded TIMEOUT_EXCEEDED, at the limit', async () => {
    // The run never ends by itself: it heartbeats until the workflow cancels it. A running activity holds the
    // test server's clock (skipping would time out its heartbeat), so this limit passes in real time: 2 s.
    const run = async () => {
      const ctx = Context.current();
      for (;;) {
        ctx.heartbeat();
        await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 200))]);
      }
    };
    const { calls, activities } = stubs({ slotAfterAsks: 1, timeLimitSeconds: 2, run });
    const result = await runExperiment('limit-1', activities);
    expect(result.state).toBe(State.timeoutExceeded);
    expect(result.message).toBe('soft time limit of 2s exceeded; stopped');
    const at = (name: string) => calls.find((c) => c.name === name)?.at as number;
    expect(at('stopExperimentContainer') - at('runExperimentContainer')).toBeGreaterThanOrEqual(2_000);
    expect(calls.filter((c) => c.name === 'finishExperiment')).toEqual([expect.objectContaining({ state: State.timeoutExceeded })]);
    expect(calls.map((c) => c.name)).toEqual([
      'registerExperiment',
      'claimExperimentSlot',
      'runExperimentContainer',
      'stopExperimentContainer',
      'finishExperiment',
      'removeExperimentContainer',
    ]);
  });
});
