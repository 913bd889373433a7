import { type StackSpec, swarmName } from './stack';
import type { ObjectRef } from './stack-resources';

/**
 * What a stack spec needs to find on the swarm and the manager's worker before anything is changed:
 * its external objects, and the paths its bind mounts and secret/config files name. Pure.
 */

/** What the manager found of the external objects: those missing, and the ids of the secrets and configs. */
export interface ExternalLookup {
  readonly missing: ReadonlyArray<{ readonly kind: 'network' | 'volume' | 'secret' | 'config'; readonly name: string }>;
  /** By swarm name. */
  readonly secrets: Readonly<Record<string, ObjectRef>>;
  readonly configs: Readonly<Record<string, ObjectRef>>;
}

type Spec = Pick<StackSpec, 'name' | 'volumes' | 'networks' | 'secrets' | 'configs' | 'services'>;

/** The swarm names of the spec's external objects, by kind. */
export function externalNames(spec: Spec) {
  const external = (objects: ReadonlyArray<{ name: string; dockerName?: string; external: boolean }>) =>
    objects.filter((o) => o.external).map((o) => swarmName(spec.name, o));
  return {
    volumes: external(spec.volumes),
    networks: external(spec.networks),
    secrets: external(spec.secrets),
    configs: external(spec.configs),
  };
}

export interface RequiredPath {
  readonly field: string;
  readonly path: string;
  readonly fix: string;
}

/** Bind sources: the engine refuses a task whose source does not exist on its node. */
export function bindSources(spec: Spec): RequiredPath[] {
  return spec.services.flatMap((s, i) =>
    s.volumes.flatMap((v, j) =>
      v.type === 'bind' && v.source !== undefined
        ? [
            {
              field: `services[${i}].volumes[${j}].source`,
              path: v.source,
              fix: 'create it (a bind source must exist on every node that runs the task)',
            },
          ]
        : [],
    ),
  );
}

/** Files the manager's worker reads secrets and configs from. */
export function objectFiles(spec: Spec): RequiredPath[] {
  const files = (kind: 'secrets' | 'configs') =>
    spec[kind].flatMap((o, i) =>
      o.file === undefined ? [] : [{ field: `${kind}[${i}].file`, path: o.file, fix: 'put the file there, or change the path' }],
    );
  return [...files('secrets'), ...files('configs')];
}
