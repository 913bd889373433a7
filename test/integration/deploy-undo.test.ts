import { Context } from '@temporalio/activity';
import { ActivityFailure, ApplicationFailure as ClientApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { Failure } from '../../common/failures';
import { SPEC_HASH_LABEL } from '../../common/labels';
import { nodeQueue, Queue } from '../../common/queues';
import { type StackSpec, stackSpecSchema } from '../../common/stack';
import type { ObjectStatus, Observed } from '../../common/stack-plan';
import { networkRequest, type ObjectRef, serviceRequest, volumeRequest } from '../../common/stack-resources';
import { failureOf } from '../support/failures';
import { useTimeSkippingServer, withStubbedActivities } from '../support/time-skipping';

// The deploy workflow's undo with its activities stubbed, on the time-skipping test server: when a step after
// the services fails, what this run created or updated must be undone newest first (a service before the
// network, secret, config or volume it uses, which the engine would refuse to remove while in use), and what
// existed before the run (unchanged or external) must not be touched. The stubs play a swarm in a given state
// and record every call; the assertions are on that record.

const server = useTimeSkippingServer();

/** The manager's engine: its hostname, so its engine-local work (volumes, exec) goes to docker@<SELF>. */
const SELF = 'mgr';
const selfQueue = nodeQueue(SELF);

let stacks = 0;
const newStack = () => `undo-${Date.now().toString(36)}-${stacks++}`;

/** The calls that undo something: the test's assertions are about these, their order and their arguments. */
const UNDO = new Set(['removeVolume', 'removeNetwork', 'removeSecret', 'removeConfig', 'removeService', 'rollbackService']);

interface Call {
  readonly queue: string;
  readonly name: string;
  readonly input: unknown;
}

/** What the stubbed swarm holds before the deploy, and how its activities answer. */
interface Swarm {
  readonly resources: Observed[];
  readonly volumes: Observed[];
  readonly secrets: Record<string, ObjectStatus>;
  readonly configs: Record<string, ObjectStatus>;
  readonly externalSecrets?: Record<string, ObjectRef>;
  readonly services: Record<string, 'create' | 'update'>;
  /** Services (swarm names) whose convergence fails. */
  readonly notConverging?: readonly string[];
  /** Services (swarm names) still converging when another one fails: their waits must be cancelled. */
  readonly stillConverging?: readonly string[];
  /** Migrations (by name) that fail. */
  readonly failingMigrations?: readonly string[];
  /** Undo calls (activity name) that fail, as an engine refusing them would. */
  readonly failingUndo?: readonly string[];
}

const refOf = (stack: string, name: string, version = 1): ObjectRef => ({
  name,
  dockerName: version === 1 ? `${stack}_${name}` : `${stack}_${name}_v${version}`,
  id: `id-${name}-v${version}`,
});

function stubs(stack: string, swarm: Swarm) {
  const calls: Call[] = [];
  const on =
    (queue: string) =>
    <I, O>(name: string, answer: (input: I) => O | Promise<O>) =>
    async (input: I): Promise<O> => {
      calls.push({ queue, name, input });
      if (swarm.failingUndo?.includes(name)) throw ApplicationFailure.nonRetryable(`${name} refused by the engine`, Failure.engineRefused);
      return answer(input);
    };
  let stillWaiting = () => {};
  const othersWaiting = new Promise<void>((resolve) => {
    stillWaiting = resolve;
  });
  const docker = on(Queue.docker);
  const self = on(selfQueue);
  const none = async () => undefined;
  const versionOf = (kind: 'secret' | 'config', name: string, statuses: Record<string, ObjectStatus>) => {
    const change = statuses[name]?.change ?? 'create';
    const ref = change === 'unchanged' ? (statuses[name]?.ref as ObjectRef) : refOf(stack, name, change === 'rotate' ? 2 : 1);
    return { ref, change, fingerprint: `${kind}-${name}` };
  };
  const dockerStubs = {
    engineNode: docker('engineNode', () => ({})),
    observeSwarm: docker('observeSwarm', () => ({
      swarm: { self: SELF, active: true, nodes: [{ name: SELF, labels: {} }] },
      resources: swarm.resources,
    })),
    checkStackSources: docker('checkStackSources', () => ({ problems: [], refused: { secrets: [], configs: [], gitlab: false } })),
    missingPaths: docker('missingPaths', () => []),
    secretStatus: docker('secretStatus', (i: { secret: { name: string } }) => swarm.secrets[i.secret.name] ?? { change: 'create' }),
    configStatus: docker('configStatus', (i: { config: { name: string } }) => swarm.configs[i.config.name] ?? { change: 'create' }),
    findExternals: docker('findExternals', () => ({ missing: [], secrets: swarm.externalSecrets ?? {}, configs: {} })),
    ensureNetwork: docker('ensureNetwork', () => ({ created: true })),
    ensureSecret: docker('ensureSecret', (i: { secret: { name: string } }) => versionOf('secret', i.secret.name, swarm.secrets)),
    ensureConfig: docker('ensureConfig', (i: { config: { name: string } }) => versionOf('config', i.config.name, swarm.configs)),
    ensureService: docker('ensureService', (i: { request: { Name: string } }) => ({
      change: swarm.services[i.request.Name] ?? 'create',
    })),
    waitConverged: docker('waitConverged', async (i: { name: string; seconds: number }) => {
      if (swarm.stillConverging?.includes(i.name)) {
        stillWaiting();
        // Waits (heartbeating) until the workflow cancels it.
        const ctx = Context.current();
        try {
          for (;;) {
            ctx.heartbeat();
            await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 200))]);
          }
        } catch (err) {
          calls.push({ queue: Queue.docker, name: 'waitConverged cancelled', input: i });
          throw err;
        }
      }
      // A failure that comes once the other wait is under way, so that there is one to cancel.
      if (swarm.stillConverging !== undefined) await othersWaiting;
      if (swarm.notConverging?.includes(i.name))
        throw ApplicationFailure.nonRetryable(
          `service ${i.name}: not converged after ${i.seconds}s: 0/1 tasks running`,
          Failure.serviceNotConverged,
        );
      return { running: 1, complete: 0 };
    }),
    pruneSecretVersions: docker('pruneSecretVersions', () => []),
    pruneConfigVersions: docker('pruneConfigVersions', () => []),
    findServiceTask: docker('findServiceTask', () => ({ node: SELF, containerId: 'c0ffee' })),
    removeNetwork: docker('removeNetwork', none),
    removeSecret: docker('removeSecret', none),
    removeConfig: docker('removeConfig', none),
    removeService: docker('removeService', none),
    rollbackService: docker('rollbackService', none),
  };
  const selfStubs = {
    observeVolumes: self('observeVolumes', () => swarm.volumes),
    ensureVolume: self('ensureVolume', () => ({ created: true })),
    removeVolume: self('removeVolume', none),
    execInContainer: self('execInContainer', () => ({ ran: true })),
  };
  const dbStubs = {
    applySqlMigration: on(Queue.db)('applySqlMigration', (i: { name: string }) => {
      if (swarm.failingMigrations?.includes(i.name))
        throw ApplicationFailure.nonRetryable(`migration ${i.name}: relation "users" already exists`, Failure.migrationFailed);
      return { applied: true };
    }),
  };
  return { calls, activities: { [Queue.docker]: dockerStubs, [selfQueue]: selfStubs, [Queue.db]: dbStubs } };
}

const deploy = (spec: unknown) =>
  server.env.client.workflow.execute('deployStack', {
    args: [spec],
    taskQueue: Queue.workflows,
    workflowId: `deploy-undo-${(spec as { name: string }).name}`,
  });

/** The undo calls, in the order they ran: where each went and what it removed or rolled back. */
const undoCalls = (calls: readonly Call[]) => calls.filter((c) => UNDO.has(c.name));

/** The call of `name` that ran first, by position, to compare when two steps ran. */
const indexOf = (calls: readonly Call[], name: string) => calls.findIndex((c) => c.name === name);

describe('deploy undo (time-skipping server, stubbed activities)', () => {
  it('a service that does not converge: this run undoes its own objects newest first, the others stay', async () => {
    const stack = newStack();
    const spec = {
      name: stack,
      volumes: [{ name: 'data' }, { name: 'old' }, { name: 'shared', external: true }],
      networks: [{ name: 'backend' }, { name: 'front' }, { name: 'ext', external: true }],
      secrets: [
        { name: 'db_password', generate: { length: 24 } },
        { name: 'session_key', generate: { length: 24 }, version: 2 },
        { name: 'api_key', generate: { length: 24 } },
        { name: 'tls', external: true },
      ],
      configs: [
        { name: 'app_conf', content: 'debug = false' },
        { name: 'site_conf', content: 'site = x' },
      ],
      services: [
        {
          name: 'web',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'data', target: '/data' }],
          networks: ['backend'],
          secrets: ['db_password', 'session_key'],
          configs: ['app_conf'],
          convergeSeconds: 60,
        },
        {
          name: 'api',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'old', target: '/old' }],
          networks: ['front'],
          secrets: ['api_key', 'tls'],
          configs: ['site_conf'],
        },
        {
          name: 'cache',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'shared', target: '/shared' }],
          networks: ['front', 'ext'],
        },
      ],
    };
    const parsed: StackSpec = stackSpecSchema.parse(spec);
    const old = parsed.volumes[1] as StackSpec['volumes'][number];
    const front = parsed.networks[1] as StackSpec['networks'][number];
    const cache = parsed.services[2] as StackSpec['services'][number];
    // The unchanged service's fingerprint as the plan computes it, from the objects that exist already.
    const cacheHash = serviceRequest(stack, cache, { volumes: parsed.volumes, networks: parsed.networks, secrets: {}, configs: {} }).Labels[
      SPEC_HASH_LABEL
    ];
    expect(cacheHash).toBeDefined();
    const { calls, activities } = stubs(stack, {
      resources: [
        { kind: 'network', name: `${stack}_front`, hash: networkRequest(stack, front).Labels[SPEC_HASH_LABEL] },
        { kind: 'service', name: `${stack}_api`, hash: 'an older spec', spec: {} },
        { kind: 'service', name: `${stack}_cache`, hash: cacheHash, spec: {} },
      ],
      volumes: [{ kind: 'volume', name: `${stack}_old`, hash: volumeRequest(stack, old).Labels[SPEC_HASH_LABEL], node: SELF }],
      secrets: {
        db_password: { change: 'create' },
        session_key: { change: 'rotate' },
        api_key: { change: 'unchanged', ref: refOf(stack, 'api_key') },
      },
      configs: { app_conf: { change: 'create' }, site_conf: { change: 'unchanged', ref: refOf(stack, 'site_conf') } },
      externalSecrets: { tls: { name: 'tls', dockerName: 'tls', id: 'id-tls' } },
      services: { [`${stack}_web`]: 'create', [`${stack}_api`]: 'update' },
      notConverging: [`${stack}_web`],
      stillConverging: [`${stack}_api`],
    });

    const err = await withStubbedActivities(server.env, activities, () =>
      deploy(spec).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

    // The deploy fails with the activity's own failure, which says which service did not converge.
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(ActivityFailure);
    const cause = (err as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ClientApplicationFailure);
    expect((cause as ClientApplicationFailure).type).toBe(Failure.serviceNotConverged);
    expect((cause as ClientApplicationFailure).message).toBe(`service ${stack}_web: not converged after 60s: 0/1 tasks running`);

    // Only what this run made was created: nothing for the unchanged or external objects.
    expect(calls.filter((c) => c.name.startsWith('ensure')).map((c) => [c.name, c.input])).toEqual([
      ['ensureVolume', { request: expect.objectContaining({ Name: `${stack}_data` }) }],
      ['ensureNetwork', { request: expect.objectContaining({ Name: `${stack}_backend` }) }],
      ['ensureSecret', { stack, secret: expect.objectContaining({ name: 'db_password' }) }],
      ['ensureSecret', { stack, secret: expect.objectContaining({ name: 'session_key' }) }],
      ['ensureConfig', { stack, config: expect.objectContaining({ name: 'app_conf' }) }],
      ['ensureService', expect.objectContaining({ request: expect.objectContaining({ Name: `${stack}_web` }) })],
      ['ensureService', expect.objectContaining({ request: expect.objectContaining({ Name: `${stack}_api` }) })],
    ]);

    // Newest first: the updated service rolled back and the new one removed before the config, the secret
    // versions, the network and the volume they use; the rotated secret loses only the version this run made.
    // Nothing of old, front, api_key, site_conf, cache or the external objects is touched.
    expect(undoCalls(calls)).toEqual([
      { queue: Queue.docker, name: 'rollbackService', input: { name: `${stack}_api` } },
      { queue: Queue.docker, name: 'removeService', input: { name: `${stack}_web` } },
      { queue: Queue.docker, name: 'removeConfig', input: { id: 'id-app_conf-v1' } },
      { queue: Queue.docker, name: 'removeSecret', input: { id: 'id-session_key-v2' } },
      { queue: Queue.docker, name: 'removeSecret', input: { id: 'id-db_password-v1' } },
      { queue: Queue.docker, name: 'removeNetwork', input: { name: `${stack}_backend` } },
      { queue: selfQueue, name: 'removeVolume', input: { name: `${stack}_data` } },
    ]);
    // The undo starts once the deploy failed and api's wait, still under way, was cancelled and ended.
    expect(indexOf(calls, 'waitConverged cancelled')).toBeGreaterThan(-1);
    expect(indexOf(calls, 'rollbackService')).toBeGreaterThan(indexOf(calls, 'waitConverged cancelled'));
  });

  it('a failed migration: the converged services of this run are undone too, before the objects they use', async () => {
    const stack = newStack();
    const spec = {
      name: stack,
      volumes: [{ name: 'data' }],
      networks: [{ name: 'backend' }],
      secrets: [
        { name: 'db_password', generate: { length: 24 } },
        { name: 'session_key', generate: { length: 24 }, version: 2 },
      ],
      services: [
        {
          name: 'db',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'data', target: '/data' }],
          networks: ['backend'],
          secrets: ['db_password'],
        },
        { name: 'web', image: 'local/busybox:1', command: ['sleep', '3600'], networks: ['backend'], secrets: ['session_key'] },
      ],
      migrations: [
        { name: '001_admin', exec: { service: 'db', command: ['create-admin'], unless: ['admin-exists'] } },
        { name: '002_tables', sql: 'CREATE TABLE users (id int)' },
        { name: '003_never', sql: 'SELECT 1' },
      ],
    };
    const { calls, activities } = stubs(stack, {
      resources: [{ kind: 'service', name: `${stack}_web`, hash: 'an older spec', spec: {} }],
      volumes: [],
      secrets: { db_password: { change: 'create' }, session_key: { change: 'rotate' } },
      configs: {},
      services: { [`${stack}_db`]: 'create', [`${stack}_web`]: 'update' },
      failingMigrations: ['002_tables'],
    });

    const failure = await withStubbedActivities(server.env, activities, () => failureOf(deploy(spec)));

    expect(failure.type).toBe(Failure.migrationFailed);
    expect(failure.message).toBe('migration 002_tables: relation "users" already exists');
    // The migrations stop at the failing one: the next is never tried.
    expect(calls.filter((c) => c.name === 'applySqlMigration' || c.name === 'execInContainer').map((c) => c.name)).toEqual([
      'execInContainer',
      'applySqlMigration',
    ]);
    expect(undoCalls(calls)).toEqual([
      { queue: Queue.docker, name: 'rollbackService', input: { name: `${stack}_web` } },
      { queue: Queue.docker, name: 'removeService', input: { name: `${stack}_db` } },
      { queue: Queue.docker, name: 'removeSecret', input: { id: 'id-session_key-v2' } },
      { queue: Queue.docker, name: 'removeSecret', input: { id: 'id-db_password-v1' } },
      { queue: Queue.docker, name: 'removeNetwork', input: { name: `${stack}_backend` } },
      { queue: selfQueue, name: 'removeVolume', input: { name: `${stack}_data` } },
    ]);
    expect(indexOf(calls, 'rollbackService')).toBeGreaterThan(indexOf(calls, 'applySqlMigration'));
    // The rotation's old version is what the rolled-back web uses again: a failed deploy never prunes it.
    expect(calls.filter((c) => c.name.startsWith('prune'))).toEqual([]);
  });

  it('an undo step that fails does not stop the ones after it', async () => {
    const stack = newStack();
    const spec = {
      name: stack,
      volumes: [{ name: 'data' }],
      networks: [{ name: 'backend' }],
      services: [
        {
          name: 'web',
          image: 'local/busybox:1',
          command: ['sleep', '3600'],
          volumes: [{ source: 'data', target: '/data' }],
          networks: ['backend'],
          convergeSeconds: 30,
        },
      ],
    };
    const { calls, activities } = stubs(stack, {
      resources: [],
      volumes: [],
      secrets: {},
      configs: {},
      services: {},
      notConverging: [`${stack}_web`],
      failingUndo: ['removeService'],
    });

    const failure = await withStubbedActivities(server.env, activities, () => failureOf(deploy(spec)));

    // The deploy still fails with what made it fail, not with the undo's failure.
    expect(failure.type).toBe(Failure.serviceNotConverged);
    expect(failure.message).toBe(`service ${stack}_web: not converged after 30s: 0/1 tasks running`);
    expect(undoCalls(calls)).toEqual([
      { queue: Queue.docker, name: 'removeService', input: { name: `${stack}_web` } },
      { queue: Queue.docker, name: 'removeNetwork', input: { name: `${stack}_backend` } },
      { queue: selfQueue, name: 'removeVolume', input: { name: `${stack}_data` } },
    ]);
  });
});
