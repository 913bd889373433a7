import { describe, expect, it } from 'vitest';
import { type StackSpec, stackSpecSchema } from '../../common/stack';
import { changeLine, type PlanInputs, planStack } from '../../common/stack-plan';
import { serviceRequest } from '../../common/stack-resources';
import { covers, serviceDifferences } from '../../common/stack-service-diff';
import type { SwarmView } from '../../common/stack-swarm';
import { parseInput } from '../../common/validate';

const swarm: SwarmView = { self: 'n1', active: true, nodes: [{ name: 'n1', labels: {} }] };
const parse = (v: unknown): StackSpec => parseInput(stackSpecSchema, v, 'stack spec');
const placed = (s: StackSpec) => ({ ...s, volumes: s.volumes.map((v) => ({ ...v, node: v.node ?? 'n1' })) });
const inputs = (more: Partial<PlanInputs> = {}): PlanInputs => ({
  swarm,
  observed: [],
  secrets: {},
  configs: {},
  externals: { missing: [], secrets: {}, configs: {} },
  missingPaths: [],
  ...more,
});

const withSecret = parse({
  name: 'omics',
  secrets: [{ name: 'db_password', generate: {} }],
  configs: [{ name: 'nginx', content: 'server {}' }],
  services: [{ name: 'web', image: 'img:1', env: { DJANGO_DEBUG: 'false' }, secrets: ['db_password'], configs: ['nginx'], replicas: 1 }],
});

/** The swarm right after a deploy of `spec`: its service as created, its secret and config as stored. */
function deployed(spec: StackSpec): PlanInputs {
  const secrets = {
    db_password: { change: 'unchanged' as const, ref: { name: 'db_password', dockerName: 'omics_db_password', id: 's1' } },
  };
  const configs = { nginx: { change: 'unchanged' as const, ref: { name: 'nginx', dockerName: 'omics_nginx', id: 'c1' } } };
  const context = { volumes: [], networks: [], secrets: { db_password: secrets.db_password.ref }, configs: { nginx: configs.nginx.ref } };
  const request = serviceRequest('omics', spec.services[0] as StackSpec['services'][number], context);
  return inputs({
    secrets,
    configs,
    observed: [{ kind: 'service', name: 'omics_web', hash: request.Labels['sciops.spec-hash'], spec: request }],
  });
}

describe('planStack: plan = apply', () => {
  it('plans nothing to do right after a deploy of a stack with secrets and configs', () => {
    const plan = planStack(placed(withSecret), deployed(withSecret));
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'secret db_password unchanged',
      'config nginx unchanged',
      'service web unchanged',
    ]);
    expect(plan.secretRefs.db_password?.id).toBe('s1');
  });

  it('a rotating secret updates the services that mount it', () => {
    const after = deployed(withSecret);
    const plan = planStack(placed(withSecret), { ...after, secrets: { db_password: { change: 'rotate' } } });
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'secret db_password update',
      'config nginx unchanged',
      'service web update',
    ]);
  });

  it('names the fields an update changes, never the values of the environment', () => {
    const changed = parse({
      ...withSecret,
      services: [{ ...withSecret.services[0], env: { DJANGO_DEBUG: 'true', NEW: 'x' }, replicas: 2, image: 'img:2' }],
    });
    const web = planStack(placed(changed), deployed(withSecret)).changes.find((c) => c.kind === 'service');
    expect(web?.change).toBe('update');
    expect(web?.details).toEqual(['image img:1 → img:2', 'env DJANGO_DEBUG changed', 'env NEW added', 'replicas 1 → 2']);
    expect(changeLine(web as NonNullable<typeof web>)).toBe(
      'update     service  web: image img:1 → img:2; env DJANGO_DEBUG changed; env NEW added; replicas 1 → 2',
    );
    expect(JSON.stringify(web)).not.toContain('true');
  });

  it('looks external objects up and refuses a missing one before any change, naming it', () => {
    const spec = parse({
      name: 'omics',
      volumes: [{ name: 'media', external: true, dockerName: 'multiomics_intermediate_media_data' }],
      networks: [{ name: 'shared', external: true }],
      services: [{ name: 'web', image: 'img:1', volumes: [{ source: 'media', target: '/media' }], networks: ['shared'] }],
    });
    const missing = planStack(
      placed(spec),
      inputs({ externals: { missing: [{ kind: 'network', name: 'shared' }], secrets: {}, configs: {} } }),
    );
    expect(missing.problems).toEqual([
      'networks[0]: external network shared does not exist; create it first (docker network create -d overlay --attachable shared), or drop external: true',
    ]);
    const ok = planStack(placed(spec), inputs());
    expect(ok.problems).toEqual([]);
    expect(ok.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'volume media external',
      'network shared external',
      'service web create',
    ]);
  });

  it('refuses a bind source or a secret file the manager does not have, naming the field', () => {
    const spec = parse({
      name: 'omics',
      secrets: [{ name: 'tls', file: '/etc/omics/tls.key' }],
      services: [
        {
          name: 'db',
          image: 'img:1',
          secrets: ['tls'],
          volumes: [{ type: 'bind', source: '/srv/omics/postgres.conf', target: '/etc/postgresql/postgresql.conf' }],
        },
      ],
    });
    const plan = planStack(placed(spec), inputs({ missingPaths: ['/srv/omics/postgres.conf', '/etc/omics/tls.key'] }));
    expect(plan.problems).toEqual([
      "services[0].volumes[0].source: /srv/omics/postgres.conf does not exist on the manager's worker; create it (a bind source must exist on every node that runs the task)",
      "secrets[0].file: /etc/omics/tls.key does not exist on the manager's worker; put the file there, or change the path",
    ]);
  });
});

describe('serviceDifferences', () => {
  it('takes what the swarm filled in for no difference, and a field sciops no longer sets for a removal', () => {
    expect(covers({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(covers({ a: [1, 2] }, { a: [1] })).toBe(false);
    const spec = parse({
      name: 's',
      services: [{ name: 'db', image: 'pg:16', command: ['postgres'], healthcheck: { test: ['CMD', 'true'] } }],
    });
    const context = { volumes: [], networks: [], secrets: {}, configs: {} };
    const before = serviceRequest('s', spec.services[0] as StackSpec['services'][number], context);
    const swarmHolds = {
      ...before,
      UpdateConfig: { Parallelism: 1, FailureAction: 'pause' },
      TaskTemplate: { ...before.TaskTemplate, ForceUpdate: 0 },
    };
    const now = parse({ name: 's', services: [{ name: 'db', image: 'pg:16@sha256:abc', command: ['postgres', '-c', 'x'] }] });
    const holdsDigest = {
      ...swarmHolds,
      TaskTemplate: { ...swarmHolds.TaskTemplate, ContainerSpec: { ...swarmHolds.TaskTemplate.ContainerSpec, Image: 'pg:16@sha256:abc' } },
    };
    expect(serviceDifferences(serviceRequest('s', now.services[0] as StackSpec['services'][number], context), holdsDigest)).toEqual([
      'command changed',
      'healthcheck removed',
    ]);
  });
});
