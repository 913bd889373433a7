import type Dockerode from 'dockerode';
import { Failure, permanent } from '../../common/failures';
import { CONFIG_LABEL, SPEC_HASH_LABEL, STACK_LABEL } from '../../common/labels';
import type { Observed } from '../../common/stack-plan';
import type { SwarmView } from '../../common/stack-swarm';

interface SwarmInfo {
  Name: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean };
}

/** What a stack has on the swarm (manager view) and on one node (its volumes): names, hash labels, ids. */
export function createStackObserver(docker: Dockerode) {
  const byStack = (stack: string) => ({ filters: { label: [`${STACK_LABEL}=${stack}`] } });
  return {
    /**
     * The swarm (this engine's hostname, whether it is in one, its nodes and their labels) and the stack's
     * networks, secrets and services. An engine in no swarm has none of them yet.
     */
    async observeSwarm(input: { stack: string }): Promise<{ swarm: SwarmView; resources: Observed[] }> {
      const info = (await docker.info()) as SwarmInfo;
      const state = info.Swarm?.LocalNodeState;
      if (state !== 'active') return { swarm: { self: info.Name, active: false, nodes: [] }, resources: [] };
      if (info.Swarm?.ControlAvailable !== true) {
        throw permanent(
          Failure.swarmConflict,
          `the docker queue's engine (${info.Name}) is a swarm worker, not a manager: point that worker's DOCKER_HOST at a manager`,
        );
      }
      const [inspected, nodes, networks, secrets, configs, services, allNetworks] = await Promise.all([
        docker.swarmInspect() as Promise<{ DataPathPort?: number }>,
        docker.listNodes(),
        docker.listNetworks(byStack(input.stack)),
        docker.listSecrets(byStack(input.stack)),
        // The stack's own configs (made from its spec), not the GitLab record teardown handles with the runners.
        docker.listConfigs({ filters: { label: [`${STACK_LABEL}=${input.stack}`, CONFIG_LABEL] } }),
        docker.listServices(byStack(input.stack)),
        docker.listNetworks(),
      ]);
      const networkName = new Map(allNetworks.map((n) => [n.Id, n.Name]));
      return {
        swarm: {
          self: info.Name,
          active: true,
          ...(inspected.DataPathPort === undefined ? {} : { dataPathPort: inspected.DataPathPort }),
          nodes: nodes
            .filter((n) => (n.Description?.Hostname ?? '') !== '')
            .map((n) => ({ name: n.Description?.Hostname as string, labels: n.Spec?.Labels ?? {} })),
        },
        resources: [
          ...networks.map((n): Observed => ({ kind: 'network', name: n.Name, hash: n.Labels?.[SPEC_HASH_LABEL] })),
          ...secrets.map((s): Observed => ({ kind: 'secret', name: s.Spec?.Name ?? '', id: s.ID })),
          ...configs.map((c): Observed => ({ kind: 'config', name: c.Spec?.Name ?? '', id: c.ID })),
          // The spec as the swarm holds it: the plan names the fields an update changes.
          ...services.map(
            (s): Observed => ({
              kind: 'service',
              name: s.Spec?.Name ?? '',
              hash: s.Spec?.Labels?.[SPEC_HASH_LABEL],
              spec: namedNetworks(s.Spec, networkName),
            }),
          ),
        ],
      };
    },

    /** The stack's volumes on this worker's engine (run it on the node's own queue, docker@<node>). */
    async observeVolumes(input: { stack: string; node: string }): Promise<Observed[]> {
      const { Volumes = [] } = await docker.listVolumes(byStack(input.stack));
      return Volumes.map((v) => ({ kind: 'volume', name: v.Name, hash: v.Labels?.[SPEC_HASH_LABEL], node: input.node }));
    },
  };
}

/** A service spec with its network attachments named as the spec names them, not by the swarm's ids. Pure. */
export function namedNetworks(spec: Dockerode.ServiceSpec | undefined, names: ReadonlyMap<string, string>): unknown {
  const task = spec?.TaskTemplate as { Networks?: Array<{ Target?: string }> } | undefined;
  if (spec === undefined || task?.Networks === undefined) return spec;
  const Networks = task.Networks.map((n) => ({ ...n, Target: names.get(n.Target ?? '') ?? n.Target }));
  return { ...spec, TaskTemplate: { ...task, Networks } };
}
