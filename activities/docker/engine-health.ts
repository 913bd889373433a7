import type Dockerode from 'dockerode';
import type { CheckResult, CheckStatus } from '../../common/doctor';
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

export function createEngineHealth(docker: Dockerode, endpoint: string) {
  return {
    /** Engine version, swarm membership and (on a manager) the swarm's nodes and their availability. */
    async checkDockerEngine(request: EngineCheckRequest): Promise<CheckResult> {
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
    },
  };
}
