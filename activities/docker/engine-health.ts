import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import type Dockerode from 'dockerode';
import type { CheckResult, CheckStatus } from '../../common/doctor';
import { nodeOfQueue } from '../../common/queues';
import { explainDockerError } from './errors';

/** The part of `docker info` the doctor reads. */
interface EngineInfo {
  Name: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean; Error?: string };
}

/** The part of a swarm node (`docker node inspect`) the doctor reads. */
interface SwarmNode {
  Description?: { Hostname?: string };
  Spec?: { Role?: string; Availability?: string };
  Status?: { State?: string; Addr?: string };
}

export interface EngineCheckRequest {
  /** The check's label in the report. */
  readonly check: string;
  /** For a node-local queue: the hostname the engine must report (a worker started on the wrong node is a fail). */
  readonly expectedNode?: string;
}

/** One line per node, as `docker node ls` would show it, and the nodes that need attention. */
export function describeNodes(nodes: readonly SwarmNode[]): { lines: string[]; unhealthy: string[] } {
  const lines: string[] = [];
  const unhealthy: string[] = [];
  for (const node of nodes) {
    const name = node.Description?.Hostname ?? '?';
    const state = node.Status?.State ?? 'unknown';
    const availability = node.Spec?.Availability ?? 'unknown';
    lines.push(`${name} (${node.Spec?.Role ?? '?'}, ${state}, ${availability})`);
    if (state !== 'ready' || availability !== 'active') unhealthy.push(`${name} is ${state}/${availability}`);
  }
  return { lines: lines.sort(), unhealthy };
}

/** A poller as DescribeTaskQueue lists it: the worker's identity (`pid@host` by default) and its last poll. */
export interface QueuePoller {
  readonly identity: string;
  readonly lastAccessMs?: number;
}

/**
 * How long a poller stays counted after its last poll. An idle worker's poll is renewed every minute (a long
 * poll's length); the server lists a stopped one for five minutes.
 */
export const POLLER_WINDOW_MS = 90_000;

/** The host of a worker identity (`pid@host`, the SDK's default); an identity of another form is its own host. */
export function identityHost(identity: string): string {
  const at = identity.lastIndexOf('@');
  return at < 0 ? identity : identity.slice(at + 1);
}

/**
 * The hosts whose workers polled within the window, each with its worker identities, sorted. Workers on one
 * host talk to its one engine; a worker restarted with a new pid is not a second host. Pure.
 */
export function pollingHosts(pollers: readonly QueuePoller[], nowMs: number, windowMs = POLLER_WINDOW_MS): Array<[string, string[]]> {
  const hosts = new Map<string, Set<string>>();
  for (const p of pollers) {
    if (p.lastAccessMs !== undefined && nowMs - p.lastAccessMs > windowMs) continue;
    const host = identityHost(p.identity);
    hosts.set(host, (hosts.get(host) ?? new Set()).add(p.identity));
  }
  return [...hosts].map(([host, ids]): [string, string[]] => [host, [...ids].sort()]).sort(([a], [b]) => a.localeCompare(b));
}

/**
 * The workers polling this activity's own task queue (`docker`, or `docker@<node>`), from the Temporal server.
 * An error when the server cannot say: the check then reports the workers as unknown.
 */
async function pollersOfOwnQueue(): Promise<{ queue: string; hosts: Array<[string, string[]]> }> {
  const context = Context.current();
  const queue = context.info.taskQueue;
  const { pollers } = await context.client.workflowService.describeTaskQueue({
    namespace: context.info.activityNamespace,
    taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  const listed = (pollers ?? []).map((p) => {
    const at = p.lastAccessTime;
    const ms = at?.seconds == null ? undefined : Number(at.seconds) * 1000 + Math.floor((at.nanos ?? 0) / 1e6);
    return { identity: p.identity ?? '?', lastAccessMs: ms };
  });
  return { queue, hosts: pollingHosts(listed, Date.now()) };
}

/**
 * The engine check, failed when workers on more than one host poll its queue: each docker queue is one engine's,
 * and the experiments, volumes and sealed boxes one worker finds on its engine and disk are not on another's.
 */
async function withOneHost(result: CheckResult): Promise<CheckResult> {
  let found: Awaited<ReturnType<typeof pollersOfOwnQueue>>;
  try {
    found = await pollersOfOwnQueue();
  } catch (err) {
    return { ...result, facts: [...result.facts, ['workers', `unknown (the Temporal server did not list them: ${String(err)})`]] };
  }
  const { queue, hosts } = found;
  const workers = hosts.flatMap(([, ids]) => ids).join(', ');
  const facts: Array<readonly [string, string]> = [...result.facts, ['workers', workers]];
  if (hosts.length <= 1) return { ...result, facts };
  const node = nodeOfQueue(queue);
  return {
    check: result.check,
    status: 'fail',
    summary: `workers on ${hosts.length} hosts poll task queue "${queue}" (${workers}), and it must be one engine's: a retry on another host's worker does not find what the first one started on its engine`,
    fix:
      node === undefined
        ? `keep one worker with --queues docker (next to the swarm manager's engine) and run the others as node workers: sciops worker --node <node> (queue docker@<node>); a worker stopped in the last ${POLLER_WINDOW_MS / 1000} seconds is still listed`
        : `stop all but one worker started with --node ${node}: the one on ${node} itself; a worker stopped in the last ${POLLER_WINDOW_MS / 1000} seconds is still listed`,
    facts,
  };
}

export function createEngineHealth(docker: Dockerode, endpoint: string) {
  return {
    /**
     * Engine version, swarm membership and (on a manager) the swarm's nodes and their availability; and that
     * no worker on another host polls its task queue.
     */
    async checkDockerEngine(request: EngineCheckRequest): Promise<CheckResult> {
      return withOneHost(await checkEngine(request));
    },
  };

  async function checkEngine(request: EngineCheckRequest): Promise<CheckResult> {
    let version: Dockerode.DockerVersion;
    let info: EngineInfo;
    try {
      [version, info] = await Promise.all([docker.version(), docker.info() as Promise<EngineInfo>]);
    } catch (err) {
      const { summary, fix } = explainDockerError(err, endpoint);
      return { check: request.check, status: 'fail', summary, fix, facts: [['DOCKER_HOST', endpoint]] };
    }
    const swarm = info.Swarm ?? {};
    const facts: Array<[string, string]> = [
      ['DOCKER_HOST', endpoint],
      ['engine', `${version.Version} (API ${version.ApiVersion}, ${version.Os}/${version.Arch})`],
      ['host', info.Name],
      ['swarm', swarm.LocalNodeState ?? 'unknown'],
    ];
    if (request.expectedNode !== undefined && info.Name !== request.expectedNode) {
      return {
        check: request.check,
        status: 'fail',
        summary: `the worker for node ${request.expectedNode} talks to the engine of host ${info.Name}`,
        fix: `run "sciops worker --node ${request.expectedNode}" on ${request.expectedNode} itself, with its local DOCKER_HOST`,
        facts,
      };
    }
    if (swarm.LocalNodeState !== 'active') {
      const status: CheckStatus = swarm.LocalNodeState === 'error' || swarm.LocalNodeState === 'locked' ? 'fail' : 'warn';
      return {
        check: request.check,
        status,
        summary: `engine ${version.Version} answers, but it is not an active swarm member (${swarm.LocalNodeState ?? 'unknown'}${swarm.Error ? `: ${swarm.Error}` : ''})`,
        fix:
          swarm.LocalNodeState === 'locked'
            ? 'unlock the swarm: docker swarm unlock'
            : 'a stack deploy initialises the swarm; to do it by hand: docker swarm init --advertise-addr <address>',
        facts,
      };
    }
    facts.push(['role', swarm.ControlAvailable ? 'manager' : 'worker']);
    if (!swarm.ControlAvailable) {
      return { check: request.check, status: 'ok', summary: `engine ${version.Version}, swarm worker node ${info.Name}`, facts };
    }
    let nodes: SwarmNode[];
    try {
      nodes = (await docker.listNodes()) as SwarmNode[];
    } catch (err) {
      const { summary, fix } = explainDockerError(err, endpoint);
      return { check: request.check, status: 'fail', summary: `listing swarm nodes failed: ${summary}`, fix, facts };
    }
    const { lines, unhealthy } = describeNodes(nodes);
    facts.push(['nodes', lines.join(', ')]);
    if (unhealthy.length > 0) {
      return {
        check: request.check,
        status: 'warn',
        summary: `swarm manager with ${nodes.length} node(s); not all are usable: ${unhealthy.join('; ')}`,
        fix: 'bring the node back (start its dockerd) or remove it: docker node rm <node>',
        facts,
      };
    }
    return {
      check: request.check,
      status: 'ok',
      summary: `engine ${version.Version}, swarm manager with ${nodes.length} ready node(s)`,
      facts,
    };
  }
}
