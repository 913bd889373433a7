/**
 * When a service has converged: the pure decision over the service, its tasks and the swarm's nodes that
 * `waitConverged` polls. Healthy tasks only (the swarm keeps a task with a healthcheck `starting` until it
 * passes), one per eligible node for a global service, completed tasks for one meant to finish.
 */
/** A task as the engine lists it: the fields convergence looks at. */
export interface Task {
  readonly CreatedAt: string;
  readonly DesiredState: string;
  readonly NodeID?: string;
  readonly Slot?: number;
  readonly Status: { State: string; Err?: string; Message?: string; Timestamp?: string };
}

/** A service as the engine inspects it: the fields convergence looks at. */
export interface ServiceView {
  readonly CreatedAt?: string;
  readonly UpdateStatus?: { State?: string; StartedAt?: string; Message?: string };
  readonly Spec?: {
    readonly TaskTemplate?: { Placement?: { Constraints?: string[] }; RestartPolicy?: { Condition?: string } };
  };
}

/** A node as the engine lists it: the fields placement looks at. */
export interface NodeView {
  readonly ID: string;
  readonly Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  readonly Status?: { State?: string };
  readonly Description?: {
    Hostname?: string;
    Platform?: { OS?: string; Architecture?: string };
    Engine?: { Labels?: Record<string, string> };
  };
}

/** What the deploy waits for: the service's mode, its replicas, and whether its tasks are meant to finish. */
export interface ConvergenceWanted {
  readonly mode: 'replicated' | 'global';
  readonly replicas: number;
  /** Restart condition none or on-failure: converged when its tasks completed. */
  readonly finishes: boolean;
}

export type Convergence = {
  readonly state: 'converged' | 'waiting' | 'failed';
  readonly running: number;
  readonly complete: number;
  /** What is missing (waiting) or what went wrong (failed); for `converged`, what runs. */
  readonly why: string;
};

/** An engine timestamp that sorts as text: its fraction of a second padded to nanoseconds (Go trims trailing zeros). */
const sortable = (ts: string) => ts.replace(/(\.\d+)?Z$/, (m) => `${(m.length > 1 ? m.slice(0, -1) : '.').padEnd(10, '0')}Z`);
const newerFirst = (a: Task, b: Task) => sortable(b.CreatedAt).localeCompare(sortable(a.CreatedAt));

const describeTask = (t: Task) =>
  `${t.Status.State}${t.Status.Err ? `: ${t.Status.Err}` : t.Status.Message ? ` (${t.Status.Message})` : ''}`;

/** What `docker service ps --no-trunc` shows for the tasks that did not run: state and error, newest first. Pure. */
export function taskErrors(tasks: readonly Task[]): string[] {
  return [...tasks]
    .sort(newerFirst)
    .filter((t) => t.Status.State !== 'running')
    .slice(0, 5)
    .map(describeTask);
}

/** How many tasks are in each state, e.g. "1 running, 1 starting (not healthy: ...)". Pure. */
function stateCounts(tasks: readonly Task[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.Status.State, (counts.get(t.Status.State) ?? 0) + 1);
  return [...counts]
    .map(([state, n]) => `${n} ${state}${state === 'starting' ? ' (not healthy: its healthcheck has not passed)' : ''}`)
    .join(', ');
}

const CONSTRAINT = /^\s*([^=!\s]+)\s*(==|!=)\s*(.+?)\s*$/;

/**
 * The value a node has for a placement constraint's key, as swarmkit reads it (a missing label is ""), or
 * undefined for the keys not evaluated here: node.ip, and any key swarmkit may add. Pure.
 */
function nodeValue(node: NodeView, key: string): string | undefined {
  const lower = key.toLowerCase();
  if (lower === 'node.id') return node.ID;
  if (lower === 'node.hostname') return node.Description?.Hostname ?? '';
  if (lower === 'node.role') return node.Spec?.Role ?? '';
  if (lower === 'node.platform.os') return node.Description?.Platform?.OS ?? '';
  if (lower === 'node.platform.arch') return node.Description?.Platform?.Architecture ?? '';
  // The label's own name is case-sensitive, as in swarmkit.
  if (lower.startsWith('node.labels.')) return node.Spec?.Labels?.[key.slice('node.labels.'.length)] ?? '';
  if (lower.startsWith('engine.labels.')) return node.Description?.Engine?.Labels?.[key.slice('engine.labels.'.length)] ?? '';
  return undefined;
}

/**
 * The nodes a global service must run a task on: Ready and Active, and satisfying every placement constraint
 * on node.id, node.hostname, node.role, node.platform.os/arch, node.labels.* or engine.labels.* (values
 * compared case-insensitively, as swarmkit does). `undefined` when a constraint cannot be evaluated here
 * (node.ip, or a form this does not parse): then no node can be said to be missing a task. Resources, the
 * image's platforms and max-replicas-per-node are not evaluated: a node they exclude keeps its task pending,
 * and the wait says so. Pure.
 */
export function eligibleNodes(constraints: readonly string[], nodes: readonly NodeView[]): NodeView[] | undefined {
  const rules: Array<{ key: string; equal: boolean; value: string }> = [];
  for (const c of constraints) {
    const m = CONSTRAINT.exec(c);
    if (m === null || nodeValue({ ID: '' }, m[1] as string) === undefined) return undefined;
    rules.push({ key: m[1] as string, equal: m[2] === '==', value: (m[3] as string).toLowerCase() });
  }
  return nodes.filter(
    (n) =>
      n.Status?.State === 'ready' &&
      n.Spec?.Availability === 'active' &&
      rules.every((r) => ((nodeValue(n, r.key) ?? '').toLowerCase() === r.value) === r.equal),
  );
}

const nodeNames = (nodes: readonly NodeView[], ids: readonly string[]) =>
  ids.map((id) => nodes.find((n) => n.ID === id)?.Description?.Hostname ?? id).join(', ');

/** The newest task of each key (slot or node). */
function newestBy(tasks: readonly Task[], key: (t: Task) => string): Map<string, Task> {
  const newest = new Map<string, Task>();
  for (const t of tasks) {
    const k = key(t);
    const seen = newest.get(k);
    if (seen === undefined || newerFirst(seen, t) > 0) newest.set(k, t);
  }
  return newest;
}

/** Update states: still going; given up by the swarm (for a long-running service); rolled back. */
const UPDATING = new Set(['updating', 'rollback_started']);
const GAVE_UP = new Set(['paused', 'rollback_paused', 'rollback_completed']);
const ROLLED_BACK = new Set(['rollback_started', 'rollback_paused', 'rollback_completed']);
const ENDED = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned']);

interface Observed {
  readonly want: ConvergenceWanted;
  readonly service: ServiceView;
  readonly tasks: readonly Task[];
  readonly nodes: readonly NodeView[];
  /** For a global service: the nodes it must cover (undefined: cannot tell). */
  readonly eligible: NodeView[] | undefined;
  readonly update: string;
  /** The swarm's message on its update, as ": message", or "". */
  readonly updateNote: string;
}

/**
 * Whether a service has converged to its current spec, given the service, all its tasks and (for a global
 * service) the swarm's nodes. Pure.
 */
export function convergence(
  want: ConvergenceWanted,
  service: ServiceView,
  tasks: readonly Task[],
  nodes: readonly NodeView[],
): Convergence {
  const observed: Observed = {
    want,
    service,
    tasks,
    nodes,
    eligible: want.mode === 'global' ? eligibleNodes(service.Spec?.TaskTemplate?.Placement?.Constraints ?? [], nodes) : undefined,
    update: service.UpdateStatus?.State ?? '',
    updateNote: service.UpdateStatus?.Message ? `: ${service.UpdateStatus.Message}` : '',
  };
  return want.finishes ? finished(observed) : running(observed);
}

/**
 * A long-running service converges when the tasks the swarm wants running (desired state running) are all
 * `running` (a task with a healthcheck stays `starting` until it is healthy): `replicas` of them, or for a
 * global service at least one and one on every eligible node, with no update in progress. An update the swarm
 * paused or rolled back has failed.
 */
function running({ want, tasks, nodes, eligible, update, updateNote }: Observed): Convergence {
  const current = tasks.filter((t) => t.DesiredState === 'running');
  const up = current.filter((t) => t.Status.State === 'running').length;
  const states = stateCounts(current);
  const verdict = (state: Convergence['state'], why: string): Convergence => ({ state, running: up, complete: 0, why });
  if (GAVE_UP.has(update)) {
    return verdict(
      'failed',
      `the swarm ${update === 'paused' ? 'paused its update' : 'rolled its update back'}${updateNote}; tasks: ${states || 'none'}`,
    );
  }
  if (UPDATING.has(update)) return verdict('waiting', `its update is in progress (${update}); tasks: ${states || 'none'}`);
  if (want.mode === 'replicated') {
    const ok = current.length === want.replicas && up === want.replicas;
    return verdict(ok ? 'converged' : 'waiting', `${up}/${want.replicas} tasks running${states ? ` (${states})` : ''}`);
  }
  if (current.length === 0) {
    return verdict('waiting', eligible?.length === 0 ? 'no Ready and Active node satisfies its placement' : 'no task yet');
  }
  if (up < current.length) return verdict('waiting', `${up}/${current.length} tasks running (${states})`);
  const uncovered = (eligible ?? []).filter((n) => !current.some((t) => t.NodeID === n.ID)).map((n) => n.ID);
  if (uncovered.length > 0) return verdict('waiting', `no task yet on ${nodeNames(nodes, uncovered)}`);
  return verdict('converged', `${up} tasks running, one on each eligible node`);
}

/**
 * A service meant to finish converges when the newest task of each slot (each eligible node, for a global
 * service) created since the current spec was set (its update's start, else the service's creation: the
 * swarm shuts finished tasks down, so age is what tells the specs apart) is `complete`. It fails as soon as
 * one is `failed` or `rejected` and the restart condition is none (on-failure: the swarm tries again). The
 * swarm pauses an update when a task finishes within the update's monitor period: that is a failure only
 * when slots remain that it never ran on the current spec.
 */
function finished({ want, service, tasks, nodes, eligible, update, updateNote }: Observed): Convergence {
  const since = Date.parse(service.UpdateStatus?.StartedAt ?? service.CreatedAt ?? '') || 0;
  const current = tasks.filter((t) => t.DesiredState !== 'remove' && Date.parse(t.CreatedAt) >= since);
  const byKey = newestBy(current, (t) => (want.mode === 'global' ? (t.NodeID ?? '') : String(t.Slot ?? 0)));
  const newest = [...byKey.values()];
  const up = newest.filter((t) => t.Status.State === 'running').length;
  const complete = newest.filter((t) => t.Status.State === 'complete').length;
  const verdict = (state: Convergence['state'], why: string): Convergence => ({ state, running: up, complete, why });

  const lost = newest.find((t) => t.Status.State === 'failed' || t.Status.State === 'rejected');
  if (lost !== undefined && (service.Spec?.TaskTemplate?.RestartPolicy?.Condition ?? 'any') === 'none') {
    const where = want.mode === 'global' ? `on ${nodeNames(nodes, [lost.NodeID ?? ''])}` : `in slot ${lost.Slot}`;
    return verdict('failed', `a task ${where} ended ${describeTask(lost)} and its restart condition is none`);
  }
  if (ROLLED_BACK.has(update)) return verdict('failed', `the swarm rolled its update back${updateNote}`);
  const expected = want.mode === 'replicated' ? want.replicas : (eligible?.length ?? Math.max(1, byKey.size));
  const pending = (eligible ?? []).filter((n) => byKey.get(n.ID)?.Status.State !== 'complete').map((n) => n.ID);
  if (complete >= expected && pending.length === 0 && (want.mode === 'replicated' || complete >= 1)) {
    return verdict('converged', `${complete} tasks complete`);
  }
  if (update === 'paused' && newest.every((t) => ENDED.has(t.Status.State))) {
    return verdict(
      'failed',
      `the swarm paused its update${updateNote}, with ${complete}/${expected} tasks of the current spec complete: a task that finishes within the update's monitor period counts as a failed update; set update.parallelism to 0 (all at once) or a shorter update.monitor`,
    );
  }
  const missing = pending.length > 0 ? `; not complete on ${nodeNames(nodes, pending)}` : '';
  return verdict('waiting', `${complete}/${expected} tasks complete${newest.length > 0 ? ` (${stateCounts(newest)})` : ''}${missing}`);
}

/**
 * Since when (ms) the service's running tasks have all been running: the newest of their last state changes
 * (a task with a healthcheck turns running once healthy). Never later than `now`: the engine's clock may
 * run ahead of this worker's. Pure.
 */
export function runningSince(tasks: readonly Task[], now: number): number {
  const changes = tasks
    .filter((t) => t.DesiredState === 'running' && t.Status.State === 'running')
    .map((t) => Date.parse(t.Status.Timestamp ?? ''))
    .filter((ms) => Number.isFinite(ms));
  return Math.min(now, changes.length > 0 ? Math.max(...changes) : now);
}
