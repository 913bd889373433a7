import { runnerDescription, type StackSpec } from '../common/stack';
import { bindSources, externalNames, objectFiles } from '../common/stack-inputs';
import { type ObjectStatus, type Observed, type PlacedSpec, planStack } from '../common/stack-plan';
import type { SwarmView } from '../common/stack-swarm';
import { gitlab, manager, onNode } from './stack-activities';

export type DeployPlan = ReturnType<typeof planStack> & { self: string; swarm: SwarmView; placed: PlacedSpec };

/**
 * Looks at the swarm (and each volume's node), asks the activities that can read secret and config values
 * whether theirs changed, looks up the external objects and the paths the spec needs, and compares all of it
 * with the spec (planStack). Touches nothing. A volume without a node lives on the manager's engine (`self`).
 */
export async function observeAndPlan(spec: StackSpec): Promise<DeployPlan> {
  const { swarm, resources } = await manager.observeSwarm({ stack: spec.name });
  // Volumes are looked for on the nodes already in the swarm; a node about to join has none of the stack's yet.
  const members = swarm.nodes.map((n) => n.name);
  const own = spec.volumes.filter((v) => !v.external);
  const named = [...new Set(own.flatMap((v) => (v.node === undefined ? [] : [v.node])))].filter((n) => members.includes(n));
  const lab = spec.gitlab;
  // The paths first: a secret or config whose file is missing is a problem of the plan, not a failure to read it.
  const missingPaths = await manager.missingPaths({ paths: [...bindSources(spec), ...objectFiles(spec)].map((p) => p.path) });
  const readable = <T extends { file?: string }>(o: T) => o.file === undefined || !missingPaths.includes(o.file);
  const [volumes, secrets, configs, externals, runners] = await Promise.all([
    Promise.all([
      ...(own.some((v) => v.node === undefined) && swarm.active ? [manager.observeVolumes({ stack: spec.name, node: swarm.self })] : []),
      ...named.map((node) => onNode(node).observeVolumes({ stack: spec.name, node })),
    ]),
    // An engine in no swarm has no secrets or configs yet: all of them are to be created.
    swarm.active
      ? statuses(spec.secrets.filter(readable), (secret) => manager.secretStatus({ stack: spec.name, secret }))
      : Promise.resolve({}),
    swarm.active
      ? statuses(spec.configs.filter(readable), (config) => manager.configStatus({ stack: spec.name, config }))
      : Promise.resolve({}),
    swarm.active ? manager.findExternals(externalNames(spec)) : Promise.resolve({ missing: [], secrets: {}, configs: {} }),
    lab === undefined
      ? Promise.resolve([])
      : Promise.all(
          spec.runners.map((r) =>
            gitlab.findGitlabRunner({ gitlab: lab, type: r.type, description: runnerDescription(spec.name, r.name) }),
          ),
        ),
  ]);
  const known = runners.flatMap((r): Observed[] => (r === null ? [] : [{ kind: 'runner', name: r.description }]));
  const placed = { ...spec, volumes: spec.volumes.map((v) => ({ ...v, node: v.node ?? swarm.self })) };
  const observed = [...resources, ...volumes.flat(), ...known];
  return { ...planStack(placed, { swarm, observed, secrets, configs, externals, missingPaths }), self: swarm.self, swarm, placed };
}

/** The status of each of the stack's own secrets (or configs), by name, asked of the activity that can read it. */
async function statuses<T extends { name: string; external: boolean }>(
  objects: readonly T[],
  ask: (o: T) => Promise<ObjectStatus>,
): Promise<Record<string, ObjectStatus>> {
  const own = objects.filter((o) => !o.external);
  const found = await Promise.all(own.map(ask));
  return Object.fromEntries(own.map((o, i) => [o.name, found[i] as ObjectStatus]));
}
