import { patched } from '@temporalio/workflow';
import { runnerDescription, type StackSpec } from '../common/stack';
import { bindSources, externalNames, objectFiles } from '../common/stack-inputs';
import { type ObjectStatus, type Observed, type PlacedSpec, planStack } from '../common/stack-plan';
import type { SourceCheck } from '../common/stack-sources';
import type { SwarmView } from '../common/stack-swarm';
import { database, engineOn, gitlab, manager, onNode } from './stack-activities';

/** Deploys started before the worker checked the stack's sources replay without the check. */
const SOURCES_CHECK = 'stack-sources-check';
const UNCHECKED: SourceCheck = { problems: [], refused: { secrets: [], configs: [], gitlab: false } };
/** Deploys started before the db worker checked the migrations' files replay without the check. */
const MIGRATION_FILES_CHECK = 'stack-migration-files-check';

export type DeployPlan = ReturnType<typeof planStack> & { self: string; swarm: SwarmView; placed: PlacedSpec };

/**
 * Asks the manager's worker what it refuses of the spec's secret and config sources and GitLab (and the db
 * worker what it refuses or cannot read of the migrations' files), looks at the
 * swarm (and each volume's node), asks the activities that can read secret and config values
 * whether theirs changed, looks up the external objects and the paths the spec needs, and compares all of it
 * with the spec (planStack). Touches nothing. A volume without a node lives on the manager's engine (`self`).
 */
export async function observeAndPlan(spec: StackSpec): Promise<DeployPlan> {
  // What the manager's worker refuses to read or call for this spec is a problem of the plan: those secrets,
  // configs and GitLab are then neither read nor called, here or by the deploy (which stops at the problems).
  const migrationFiles = spec.migrations.flatMap((m) => (m.file === undefined ? [] : [{ name: m.name, file: m.file }]));
  const [{ swarm, resources }, sources, migrationProblems] = await Promise.all([
    manager.observeSwarm({ stack: spec.name }),
    patched(SOURCES_CHECK)
      ? manager.checkStackSources({ secrets: spec.secrets, configs: spec.configs, gitlab: spec.gitlab })
      : Promise.resolve(UNCHECKED),
    migrationFiles.length > 0 && patched(MIGRATION_FILES_CHECK)
      ? database.checkMigrationFiles({ migrations: migrationFiles })
      : Promise.resolve([]),
  ]);
  const allowed = (kind: 'secrets' | 'configs') => (o: { name: string }) => !sources.refused[kind].includes(o.name);
  // Volumes are looked for on the nodes already in the swarm; a node about to join has none of the stack's yet.
  const members = swarm.nodes.map((n) => n.name);
  const own = spec.volumes.filter((v) => !v.external);
  const named = [...new Set(own.flatMap((v) => (v.node === undefined ? [] : [v.node])))].filter((n) => members.includes(n));
  const lab = sources.refused.gitlab ? undefined : spec.gitlab;
  // The paths first: a secret or config whose file is missing is a problem of the plan, not a failure to read it.
  const files = objectFiles({
    ...spec,
    secrets: spec.secrets.filter(allowed('secrets')),
    configs: spec.configs.filter(allowed('configs')),
  });
  const missingPaths = await manager.missingPaths({ paths: [...bindSources(spec), ...files].map((p) => p.path) });
  const readable = <T extends { file?: string }>(o: T) => o.file === undefined || !missingPaths.includes(o.file);
  const [volumes, secrets, configs, externals, runners] = await Promise.all([
    Promise.all([
      ...(own.some((v) => v.node === undefined) && swarm.active
        ? [engineOn(swarm.self, swarm.self).observeVolumes({ stack: spec.name, node: swarm.self })]
        : []),
      ...named.map((node) => onNode(node).observeVolumes({ stack: spec.name, node })),
    ]),
    // An engine in no swarm has no secrets or configs yet: all of them are to be created.
    swarm.active
      ? statuses(spec.secrets.filter(allowed('secrets')).filter(readable), (secret) => manager.secretStatus({ stack: spec.name, secret }))
      : Promise.resolve({}),
    swarm.active
      ? statuses(spec.configs.filter(allowed('configs')).filter(readable), (config) => manager.configStatus({ stack: spec.name, config }))
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
  const plan = planStack(placed, { swarm, observed, secrets, configs, externals, missingPaths });
  return { ...plan, problems: [...sources.problems, ...migrationProblems, ...plan.problems], self: swarm.self, swarm, placed };
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
