import { SPEC_HASH_LABEL } from './labels';
import { resourceName, runnerDescription, type StackSpec, swarmName, type VolumeSpec } from './stack';
import { bindSources, type ExternalLookup, objectFiles } from './stack-inputs';
import { networkRequest, type ObjectRef, serviceRequest, volumeRequest } from './stack-resources';
import { serviceDifferences } from './stack-service-diff';
import { type SwarmView, swarmActions } from './stack-swarm';

export type ResourceKind = 'swarm' | 'node' | 'volume' | 'network' | 'secret' | 'config' | 'service' | 'runner';
export type Change = 'create' | 'update' | 'unchanged' | 'external';

/** One resource as found on the swarm: its name, its spec-hash label, and (volumes) its node. */
export interface Observed {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly hash?: string;
  readonly node?: string;
  /** Secrets and configs: the swarm's id (teardown removes by it). */
  readonly id?: string;
  /** Services: the spec the swarm holds, for the plan to say which fields an update changes. */
  readonly spec?: unknown;
}

export interface PlannedChange {
  readonly kind: ResourceKind;
  /** The name in the spec (not prefixed with the stack). */
  readonly name: string;
  readonly change: Change;
  readonly node?: string;
  /** For an update: what differs, in the spec's words (`env DJANGO_DEBUG changed`, `replicas 1 → 2`). */
  readonly details?: readonly string[];
}

export interface StackPlan {
  readonly changes: readonly PlannedChange[];
  /** What makes the spec undeployable here, each naming the field: nothing may be touched. */
  readonly problems: readonly string[];
}

/** What the activities holding a secret's or config's value decided: the one comparison plan and deploy share. */
export interface ObjectStatus {
  readonly change: 'create' | 'rotate' | 'unchanged';
  readonly ref?: ObjectRef;
}

export interface PlanInputs {
  readonly swarm: SwarmView;
  readonly observed: readonly Observed[];
  /** The stack's own secrets and configs, by their name in the spec. */
  readonly secrets: Readonly<Record<string, ObjectStatus>>;
  readonly configs: Readonly<Record<string, ObjectStatus>>;
  readonly externals: ExternalLookup;
  /** Paths (bind sources, secret and config files) that do not exist on the manager's worker. */
  readonly missingPaths: readonly string[];
}

export type PlacedSpec = Omit<StackSpec, 'volumes'> & { volumes: Array<VolumeSpec & { node: string }> };

const asChange = (c: ObjectStatus['change']): Change => (c === 'rotate' ? 'update' : c);

/**
 * Compares the spec with what the swarm holds: the one comparison both `--plan` and the deploy act on. The
 * swarm itself first (init, nodes to join, node labels: see swarmActions). External objects must exist
 * (they are never created); bind sources and object files must exist on the manager's worker. Volumes and
 * networks cannot be changed in place, so a different one under the same name is a problem, not an update;
 * secrets and configs are as their activities found them; services update when their fingerprint differs,
 * with the fields that differ. Pure.
 */
export function planStack(
  spec: PlacedSpec,
  inputs: PlanInputs,
): StackPlan & { secretRefs: Record<string, ObjectRef>; configRefs: Record<string, ObjectRef> } {
  const actions = swarmActions(spec.swarm, inputs.swarm);
  const changes: PlannedChange[] = [...actions.changes];
  const problems: string[] = [...actions.problems];
  const nodes = actions.nodes;
  const stack = spec.name;
  const find = (kind: ResourceKind, name: string, node?: string) =>
    inputs.observed.find((o) => o.kind === kind && o.name === name && (node === undefined || o.node === node));
  const missing = (kind: string, name: string) => inputs.externals.missing.some((m) => m.kind === kind && m.name === name);
  const externalProblem = (field: string, kind: string, name: string, how: string) =>
    problems.push(`${field}: external ${kind} ${name} does not exist; create it first (${how}), or drop external: true`);

  spec.volumes.forEach((v, i) => {
    const name = swarmName(stack, v);
    if (v.external) {
      if (missing('volume', name)) externalProblem(`volumes[${i}]`, 'volume', name, `docker volume create ${name}`);
      changes.push({ kind: 'volume', name: v.name, change: 'external' });
      return;
    }
    if (!nodes.includes(v.node)) {
      problems.push(`volumes[${i}].node: no node "${v.node}" in the swarm (nodes: ${nodes.join(', ')})`);
      return;
    }
    const found = find('volume', name, v.node);
    if (found !== undefined && found.hash !== volumeRequest(stack, v).Labels[SPEC_HASH_LABEL]) {
      problems.push(`volumes[${i}]: volume ${name} on ${v.node} exists with other options; volumes are never changed in place`);
    }
    changes.push({ kind: 'volume', name: v.name, node: v.node, change: found === undefined ? 'create' : 'unchanged' });
  });
  spec.networks.forEach((n, i) => {
    const name = swarmName(stack, n);
    if (n.external) {
      if (missing('network', name))
        externalProblem(`networks[${i}]`, 'network', name, `docker network create -d overlay --attachable ${name}`);
      changes.push({ kind: 'network', name: n.name, change: 'external' });
      return;
    }
    const found = find('network', name);
    if (found !== undefined && found.hash !== networkRequest(stack, n).Labels[SPEC_HASH_LABEL]) {
      problems.push(
        `networks[${i}]: network ${name} exists with other options; remove the stack's services and the network first (sciops teardown)`,
      );
    }
    changes.push({ kind: 'network', name: n.name, change: found === undefined ? 'create' : 'unchanged' });
  });
  const refs = (kind: 'secret' | 'config') => {
    const out: Record<string, ObjectRef> = {};
    const objects = kind === 'secret' ? spec.secrets : spec.configs;
    const statuses = kind === 'secret' ? inputs.secrets : inputs.configs;
    const found = kind === 'secret' ? inputs.externals.secrets : inputs.externals.configs;
    objects.forEach((o, i) => {
      const name = swarmName(stack, o);
      if (o.external) {
        const ref = found[name];
        if (ref === undefined) externalProblem(`${kind}s[${i}]`, kind, name, `docker ${kind} create ${name} FILE`);
        else out[o.name] = { ...ref, name: o.name };
        changes.push({ kind, name: o.name, change: 'external' });
        return;
      }
      const status = statuses[o.name] ?? { change: 'create' };
      if (status.ref !== undefined && status.change === 'unchanged') out[o.name] = status.ref;
      changes.push({ kind, name: o.name, change: asChange(status.change) });
    });
    return out;
  };
  const secretRefs = refs('secret');
  const configRefs = refs('config');

  for (const path of [...bindSources(spec), ...objectFiles(spec)]) {
    if (inputs.missingPaths.includes(path.path)) {
      problems.push(`${path.field}: ${path.path} does not exist on the manager's worker; ${path.fix}`);
    }
  }

  const context = { volumes: spec.volumes, networks: spec.networks, secrets: secretRefs, configs: configRefs };
  for (const s of spec.services) {
    const found = find('service', resourceName(stack, s.name));
    const request = serviceRequest(stack, s, context);
    if (found === undefined) changes.push({ kind: 'service', name: s.name, change: 'create' });
    else if (found.hash === request.Labels[SPEC_HASH_LABEL]) changes.push({ kind: 'service', name: s.name, change: 'unchanged' });
    else changes.push({ kind: 'service', name: s.name, change: 'update', details: serviceDifferences(request, found.spec) });
  }
  // Runners GitLab has are unchanged unless their container lost its registration (seen only when deploying).
  for (const r of spec.runners) {
    const found = inputs.observed.some((o) => o.kind === 'runner' && o.name === runnerDescription(stack, r.name));
    changes.push({ kind: 'runner', name: r.name, change: found ? 'unchanged' : 'create' });
  }
  return { changes, problems, secretRefs, configRefs };
}

/** One line a change, as `sciops deploy --plan` prints it: `update     service  web: env DJANGO_DEBUG changed; replicas 1 → 2`. */
export function changeLine(c: PlannedChange): string {
  const details = c.details === undefined || c.details.length === 0 ? '' : `: ${c.details.join('; ')}`;
  return `${c.change.padEnd(10)} ${c.kind.padEnd(8)} ${c.name}${c.node ? ` (on ${c.node})` : ''}${details}`;
}
