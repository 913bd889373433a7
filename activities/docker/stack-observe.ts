import type Dockerode from 'dockerode';
import { SPEC_HASH_LABEL, STACK_LABEL } from '../../common/stack';
import type { Observed } from '../../common/stack-resources';

/** What a stack has on the swarm (manager view) and on one node (its volumes): names, hash labels, ids. */
export function createStackObserver(docker: Dockerode) {
  const byStack = (stack: string) => ({ filters: { label: [`${STACK_LABEL}=${stack}`] } });
  return {
    /** This engine's node (`self`), the swarm's node hostnames, and the stack's networks, secrets and services. */
    async observeSwarm(input: { stack: string }): Promise<{ self: string; nodes: string[]; resources: Observed[] }> {
      const [info, nodes, networks, secrets, services] = await Promise.all([
        docker.info() as Promise<{ Name: string }>,
        docker.listNodes(),
        docker.listNetworks(byStack(input.stack)),
        docker.listSecrets(byStack(input.stack)),
        docker.listServices(byStack(input.stack)),
      ]);
      return {
        self: info.Name,
        nodes: nodes.map((n) => n.Description?.Hostname ?? '').filter((h) => h !== ''),
        resources: [
          ...networks.map((n): Observed => ({ kind: 'network', name: n.Name, hash: n.Labels?.[SPEC_HASH_LABEL] })),
          ...secrets.map(
            (s): Observed => ({ kind: 'secret', name: s.Spec?.Name ?? '', hash: s.Spec?.Labels?.[SPEC_HASH_LABEL], id: s.ID }),
          ),
          ...services.map((s): Observed => ({ kind: 'service', name: s.Spec?.Name ?? '', hash: s.Spec?.Labels?.[SPEC_HASH_LABEL] })),
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
