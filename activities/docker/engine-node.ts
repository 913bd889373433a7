import type Dockerode from 'dockerode';
import { NODE_NAME } from '../../common/queues';

/**
 * The node name of an engine (`docker info`'s Name, the hostname a swarm lists it under), or undefined when the
 * engine does not answer or reports a name that is no queue name.
 */
export async function engineNodeName(docker: Dockerode): Promise<string | undefined> {
  try {
    const { Name } = (await docker.info()) as { Name?: unknown };
    return typeof Name === 'string' && NODE_NAME.test(Name) ? Name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where this worker's engine-local work goes: its own `docker@<node>` queue, which it polls beside `docker`.
 * A workflow asks once (its first step on the engine) and sends every later step on that engine there, so that
 * a second poller of `docker` (another manager's worker) never gets half of one experiment, volume or sealed box.
 * `node` undefined: this worker polls no node queue (its engine did not answer at start); work stays on `docker`.
 */
export function createEngineNode(node: string | undefined) {
  return {
    async engineNode(): Promise<{ node?: string }> {
      return node === undefined ? {} : { node };
    },
  };
}
