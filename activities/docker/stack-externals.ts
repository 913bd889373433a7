import { stat } from 'node:fs/promises';
import type Dockerode from 'dockerode';
import type { ObjectRef } from '../../common/stack-resources';
import { ignoreStatus } from './errors';

export type ExternalKind = 'network' | 'volume' | 'secret' | 'config';

export interface FoundExternals {
  /** What the stack names as external and this swarm (or, for volumes, this worker's engine) does not have. */
  readonly missing: ReadonlyArray<{ kind: ExternalKind; name: string }>;
  /** By swarm name; `name` and `dockerName` are both the swarm name. */
  readonly secrets: Readonly<Record<string, ObjectRef>>;
  readonly configs: Readonly<Record<string, ObjectRef>>;
}

/** Networks every engine has: a service may name them without anyone creating them. */
const PREDEFINED_NETWORKS = new Set(['host', 'bridge', 'none', 'default']);

/**
 * What a stack uses and never makes: external networks, volumes, secrets and configs, looked up by their exact
 * swarm names (the engine's `name` filter also matches parts of names), and the files and bind sources that
 * must exist on this worker. Read-only: the workflow checks all of it before it changes anything.
 */
export function createStackExternals(docker: Dockerode) {
  /** The objects a list answered with, by exact name. */
  const byName = <T>(list: readonly T[], nameOf: (x: T) => string | undefined, wanted: readonly string[]) => {
    const found = new Map<string, T>();
    for (const x of list) {
      const name = nameOf(x);
      if (name !== undefined && wanted.includes(name)) found.set(name, x);
    }
    return found;
  };

  return {
    /**
     * An external network must be swarm-scoped (as `docker stack deploy` requires; a node-local network of the
     * same name counts as missing), except host, bridge and none, which every node has. Volumes are looked up
     * on this worker's engine.
     */
    async findExternals(input: { networks: string[]; volumes: string[]; secrets: string[]; configs: string[] }): Promise<FoundExternals> {
      const networksWanted = input.networks.filter((n) => !PREDEFINED_NETWORKS.has(n));
      const nameFilter = (names: readonly string[]) => ({ filters: { name: [...names] } });
      const [networks, volumes, secrets, configs] = await Promise.all([
        networksWanted.length === 0 ? [] : docker.listNetworks(nameFilter(networksWanted)),
        Promise.all(
          input.volumes.map(async (name) =>
            (await docker.getVolume(name).inspect().catch(ignoreStatus(404))) === undefined ? name : undefined,
          ),
        ),
        input.secrets.length === 0 ? [] : docker.listSecrets(nameFilter(input.secrets)),
        input.configs.length === 0 ? [] : docker.listConfigs(nameFilter(input.configs)),
      ]);
      const swarmNetworks = byName(
        networks.filter((n) => n.Scope === 'swarm'),
        (n) => n.Name,
        networksWanted,
      );
      const secretsFound = byName(
        secrets as unknown as Array<{ ID: string; Spec?: { Name?: string } }>,
        (s) => s.Spec?.Name,
        input.secrets,
      );
      const configsFound = byName(configs, (c) => c.Spec?.Name, input.configs);
      const refs = (found: Map<string, { ID: string }>) =>
        Object.fromEntries([...found].map(([name, x]): [string, ObjectRef] => [name, { name, dockerName: name, id: x.ID }]));
      const missingOf = (kind: ExternalKind, wanted: readonly string[], found: { has(name: string): boolean }) =>
        [...new Set(wanted)].filter((name) => !found.has(name)).map((name) => ({ kind, name }));
      const volumesMissing = [...new Set(volumes.filter((v) => v !== undefined))];
      return {
        missing: [
          ...missingOf('network', networksWanted, swarmNetworks),
          ...volumesMissing.map((name) => ({ kind: 'volume' as const, name })),
          ...missingOf('secret', input.secrets, secretsFound),
          ...missingOf('config', input.configs, configsFound),
        ],
        secrets: refs(secretsFound),
        configs: refs(configsFound),
      };
    },

    /**
     * Which of these paths do not exist on this worker's file system (bind sources, config and secret files),
     * so that a deploy stops before its first change. A path this worker may not look into counts as existing:
     * the engine, or the activity reading it, says more.
     */
    async missingPaths(input: { paths: string[] }): Promise<string[]> {
      const unique = [...new Set(input.paths)];
      const gone = await Promise.all(
        unique.map((p) =>
          stat(p).then(
            () => false,
            (err: NodeJS.ErrnoException) => err.code === 'ENOENT' || err.code === 'ENOTDIR',
          ),
        ),
      );
      return unique.filter((_, i) => gone[i]);
    },
  };
}
