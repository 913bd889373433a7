import { describe, expect, it } from 'vitest';
import {
  convergence,
  eligibleNodes,
  type NodeView,
  runningSince,
  type ServiceView,
  type Task,
} from '../../activities/docker/stack-convergence';

const T0 = '2026-01-01T10:00:00.000000000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

function task(state: string, extra: Partial<Omit<Task, 'Status'>> & { err?: string; created?: number } = {}): Task {
  const { err, created = 1, ...rest } = extra;
  return {
    CreatedAt: at(created),
    DesiredState: ['complete', 'failed', 'rejected', 'shutdown'].includes(state) ? 'shutdown' : 'running',
    Status: { State: state, ...(err === undefined ? {} : { Err: err }) },
    ...rest,
  };
}

function service(extra: { update?: ServiceView['UpdateStatus']; constraints?: string[]; condition?: string } = {}): ServiceView {
  return {
    CreatedAt: T0,
    ...(extra.update === undefined ? {} : { UpdateStatus: extra.update }),
    Spec: {
      TaskTemplate: {
        Placement: { ...(extra.constraints === undefined ? {} : { Constraints: extra.constraints }) },
        ...(extra.condition === undefined ? {} : { RestartPolicy: { Condition: extra.condition } }),
      },
    },
  };
}

function node(
  id: string,
  hostname: string,
  extra: { role?: string; labels?: Record<string, string>; state?: string; availability?: string } = {},
): NodeView {
  return {
    ID: id,
    Spec: { Role: extra.role ?? 'worker', Availability: extra.availability ?? 'active', Labels: extra.labels ?? {} },
    Status: { State: extra.state ?? 'ready' },
    Description: { Hostname: hostname, Platform: { OS: 'linux', Architecture: 'x86_64' } },
  };
}

const NODES = [
  node('n1', 'manager-1', { role: 'manager', labels: { zone: 'a' } }),
  node('n2', 'gpu-1', { labels: { gpu: 'true', zone: 'b' } }),
  node('n3', 'gpu-2', { labels: { gpu: 'true', zone: 'b' } }),
  node('n4', 'drained', { labels: { gpu: 'true' }, availability: 'drain' }),
  node('n5', 'down', { labels: { gpu: 'true' }, state: 'down' }),
];

const replicated = (replicas: number, finishes = false) => ({ mode: 'replicated' as const, replicas, finishes });
const global = (finishes = false) => ({ mode: 'global' as const, replicas: 1, finishes });

describe('a long-running replicated service', () => {
  it('converges when its replicas run', () => {
    const tasks = [task('running', { Slot: 1 }), task('running', { Slot: 2 }), task('failed', { Slot: 1, created: 0, err: 'old crash' })];
    expect(convergence(replicated(2), service(), tasks, [])).toMatchObject({ state: 'converged', running: 2 });
  });

  it('waits while a task with a healthcheck is starting (not healthy yet), and says so', () => {
    const verdict = convergence(replicated(2), service(), [task('running', { Slot: 1 }), task('starting', { Slot: 2 })], []);
    expect(verdict).toMatchObject({ state: 'waiting', running: 1 });
    expect(verdict.why).toBe('1/2 tasks running (1 running, 1 starting (not healthy: its healthcheck has not passed))');
  });

  it('waits while its update is in progress, even with every task running', () => {
    const tasks = [task('running', { Slot: 1 }), task('running', { Slot: 1, created: 0 })];
    expect(convergence(replicated(1), service({ update: { State: 'updating' } }), tasks, []).state).toBe('waiting');
  });

  it('fails when the swarm paused or rolled back its update', () => {
    const tasks = [task('running', { Slot: 1 })];
    const paused = convergence(replicated(1), service({ update: { State: 'paused', Message: 'update paused due to failure' } }), tasks, []);
    expect(paused).toMatchObject({ state: 'failed' });
    expect(paused.why).toMatch(/^the swarm paused its update: update paused due to failure/);
    const back = convergence(replicated(1), service({ update: { State: 'rollback_completed', Message: 'rollback completed' } }), tasks, []);
    expect(back.why).toMatch(/^the swarm rolled its update back: rollback completed/);
  });

  it('with no replicas, converges with no task', () => {
    expect(convergence(replicated(0), service(), [], []).state).toBe('converged');
  });
});

describe('eligibleNodes: where a global service must run', () => {
  const names = (nodes: NodeView[] | undefined) => nodes?.map((n) => n.Description?.Hostname);

  it('Ready and Active nodes only', () => {
    expect(names(eligibleNodes([], NODES))).toEqual(['manager-1', 'gpu-1', 'gpu-2']);
  });

  it('filters by hostname, role and labels, == and !=, values case-insensitive', () => {
    expect(names(eligibleNodes(['node.labels.gpu==true'], NODES))).toEqual(['gpu-1', 'gpu-2']);
    expect(names(eligibleNodes(['node.labels.gpu == TRUE', 'node.hostname!=gpu-2'], NODES))).toEqual(['gpu-1']);
    expect(names(eligibleNodes(['node.role==manager'], NODES))).toEqual(['manager-1']);
    expect(names(eligibleNodes(['node.role!=manager'], NODES))).toEqual(['gpu-1', 'gpu-2']);
    // A missing label is empty: != matches it.
    expect(names(eligibleNodes(['node.labels.gpu!=true'], NODES))).toEqual(['manager-1']);
    expect(names(eligibleNodes(['node.platform.os==linux', 'node.id==n3'], NODES))).toEqual(['gpu-2']);
  });

  it('cannot tell for a constraint it does not evaluate', () => {
    expect(eligibleNodes(['node.ip==10.0.0.0/8'], NODES)).toBeUndefined();
  });
});

describe('a long-running global service', () => {
  const gpu = service({ constraints: ['node.labels.gpu==true'] });

  it('converges with one running task on every eligible node', () => {
    const tasks = [task('running', { NodeID: 'n2' }), task('running', { NodeID: 'n3' })];
    expect(convergence(global(), gpu, tasks, NODES)).toMatchObject({ state: 'converged', running: 2 });
  });

  it('waits for an eligible node without a task, naming it', () => {
    const verdict = convergence(global(), gpu, [task('running', { NodeID: 'n2' })], NODES);
    expect(verdict).toMatchObject({ state: 'waiting', why: 'no task yet on gpu-2' });
  });

  it('waits while a task is not running yet', () => {
    const tasks = [task('running', { NodeID: 'n2' }), task('starting', { NodeID: 'n3' })];
    expect(convergence(global(), gpu, tasks, NODES)).toMatchObject({ state: 'waiting', running: 1 });
  });

  it('waits with no task at all, saying when no node satisfies the placement', () => {
    expect(convergence(global(), service({ constraints: ['node.labels.gpu==false'] }), [], NODES).why).toBe(
      'no Ready and Active node satisfies its placement',
    );
    expect(convergence(global(), gpu, [], NODES).why).toBe('no task yet');
  });

  it('with a constraint it cannot evaluate, converges when its tasks (at least one) all run', () => {
    const unknown = service({ constraints: ['node.ip==10.0.0.0/8'] });
    expect(convergence(global(), unknown, [task('running', { NodeID: 'n2' })], NODES).state).toBe('converged');
  });
});

describe('a service meant to finish', () => {
  it('converges when every slot’s newest task of the current spec completed', () => {
    const tasks = [task('complete', { Slot: 1 }), task('complete', { Slot: 2 }), task('failed', { Slot: 2, created: 0.5, err: 'exit 1' })];
    expect(convergence(replicated(2, true), service({ condition: 'on-failure' }), tasks, [])).toMatchObject({
      state: 'converged',
      complete: 2,
    });
  });

  it('waits while tasks run, and for slots without a task yet', () => {
    expect(convergence(replicated(2, true), service({ condition: 'none' }), [task('running', { Slot: 1 })], [])).toMatchObject({
      state: 'waiting',
      running: 1,
      complete: 0,
      why: '0/2 tasks complete (1 running)',
    });
  });

  it('fails as soon as a task failed or was rejected with restart condition none', () => {
    const failed = convergence(
      replicated(2, true),
      service({ condition: 'none' }),
      [task('complete', { Slot: 1 }), task('failed', { Slot: 2, err: 'task: non-zero exit (3)' })],
      [],
    );
    expect(failed).toMatchObject({ state: 'failed', complete: 1 });
    expect(failed.why).toBe('a task in slot 2 ended failed: task: non-zero exit (3) and its restart condition is none');
    const rejected = convergence(
      replicated(1, true),
      service({ condition: 'none' }),
      [task('rejected', { Slot: 1, err: 'No such image' })],
      [],
    );
    expect(rejected.state).toBe('failed');
  });

  it('waits after a failure with restart condition on-failure: the swarm tries again', () => {
    const tasks = [task('failed', { Slot: 1, err: 'task: non-zero exit (3)' })];
    expect(convergence(replicated(1, true), service({ condition: 'on-failure' }), tasks, []).state).toBe('waiting');
  });

  it('counts only the tasks created since its update started (older ones ran the previous spec)', () => {
    const updated = service({ condition: 'none', update: { State: 'updating', StartedAt: at(10) } });
    const old = [task('complete', { Slot: 1, created: 1 }), task('complete', { Slot: 2, created: 1 })];
    expect(convergence(replicated(2, true), updated, old, [])).toMatchObject({ state: 'waiting', complete: 0 });
    const renewed = [...old, task('complete', { Slot: 1, created: 11 }), task('complete', { Slot: 2, created: 12 })];
    expect(convergence(replicated(2, true), updated, renewed, []).state).toBe('converged');
  });

  it('fails when the swarm paused its update after a task finished, leaving slots on the previous spec', () => {
    const paused = service({
      condition: 'none',
      update: { State: 'paused', StartedAt: at(10), Message: 'update paused due to failure or early termination of task x' },
    });
    const tasks = [
      task('complete', { Slot: 1, created: 1 }),
      task('complete', { Slot: 2, created: 1 }),
      task('complete', { Slot: 1, created: 11 }),
    ];
    const verdict = convergence(replicated(2, true), paused, tasks, []);
    expect(verdict).toMatchObject({ state: 'failed', complete: 1 });
    expect(verdict.why).toMatch(/early termination .* 1\/2 tasks of the current spec complete: .*update\.parallelism/);
    // Paused but every slot ran the current spec to completion: converged.
    const all = [...tasks, task('complete', { Slot: 2, created: 12 })];
    expect(convergence(replicated(2, true), paused, all, []).state).toBe('converged');
  });

  it('a global one converges when each eligible node’s newest task completed', () => {
    const gpu = service({ condition: 'none', constraints: ['node.labels.gpu==true'] });
    const one = [task('complete', { NodeID: 'n2' })];
    expect(convergence(global(true), gpu, one, NODES)).toMatchObject({
      state: 'waiting',
      why: '1/2 tasks complete (1 complete); not complete on gpu-2',
    });
    expect(convergence(global(true), gpu, [...one, task('complete', { NodeID: 'n3' })], NODES).state).toBe('converged');
  });
});

describe('runningSince', () => {
  const at = (state: string, timestamp: string, desired = 'running'): Task => ({
    CreatedAt: timestamp,
    DesiredState: desired,
    Status: { State: state, Timestamp: timestamp },
  });
  const now = Date.parse('2026-12-01T10:00:10Z');

  it('is the newest change to running among the running tasks: stability counts from there', () => {
    const tasks = [
      at('running', '2026-12-01T10:00:01Z'),
      at('running', '2026-12-01T10:00:04Z'),
      at('shutdown', '2026-12-01T10:00:09Z', 'shutdown'),
    ];
    expect(runningSince(tasks, now)).toBe(Date.parse('2026-12-01T10:00:04Z'));
  });

  it('is now when no task tells, or when the engine clock runs ahead', () => {
    expect(runningSince([], now)).toBe(now);
    expect(runningSince([at('running', '2026-12-01T10:05:00Z')], now)).toBe(now);
  });
});
