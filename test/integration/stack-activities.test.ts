import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStackConfigs } from '../../activities/docker/stack-configs';
import type { Task } from '../../activities/docker/stack-convergence';
import { createStackExternals } from '../../activities/docker/stack-externals';
import { createStackSecrets } from '../../activities/docker/stack-secrets';
import { createStackServices } from '../../activities/docker/stack-services';
import { createSourceGuard } from '../../activities/docker/stack-sources';
import { createVolumesAndNetworks } from '../../activities/docker/stack-volumes-networks';
import { parseDockerHost } from '../../common/config';
import { NAMESPACE_LABEL, STACK_LABEL } from '../../common/labels';
import { configSchema, networkSchema, secretSchema, volumeSchema } from '../../common/stack-objects';
import { networkRequest, serviceRequest, volumeRequest } from '../../common/stack-resources';
import { serviceSchema } from '../../common/stack-service';
import { readStackSourcePolicy } from '../../common/stack-sources';
import { dockerClient } from '../../workers/create-workers';
import { tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

/**
 * The stack activities called directly (no worker: heartbeats go to a mock activity context) against the
 * testbed's two-node swarm: secret and config versions, external lookups, convergence as the engine reports
 * task states (healthchecks, tasks meant to finish, global services), and registry credentials on the wire.
 */

const stack = `sa${Date.now().toString(36)}`;
const NODE_LABEL = `sciops-test.${stack}`;
const context = { volumes: [], networks: [], secrets: {}, configs: {} };
const files = tempDir('stack-activities');
const t = useTestbed();
const { docker } = t;
const endpoint = parseDockerHost(t.bed.dockerHost);
let node2Id: string;
let secrets: ReturnType<typeof createStackSecrets>;
let configs: ReturnType<typeof createStackConfigs>;
let externals: ReturnType<typeof createStackExternals>;
let services: ReturnType<typeof createStackServices>;

/** Runs an activity in a mock activity context, as a worker would (heartbeats and its log lines go nowhere). */
const quiet: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const inActivity = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment(undefined, { logger: quiet }).run(fn);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: Error & { type?: string; nonRetryable?: boolean }) => err,
  );
const secret = (input: Record<string, unknown>) => secretSchema.parse(input);
const config = (input: Record<string, unknown>) => configSchema.parse(input);
const request = (input: Record<string, unknown>) =>
  serviceRequest(stack, serviceSchema.parse({ image: 'local/busybox:1', convergeSeconds: 60, ...input }), context);
const file = (name: string, content: string) => {
  const p = path.join(files, name);
  writeFileSync(p, content);
  return p;
};

async function setNodeLabels(id: string, change: (labels: Record<string, string>) => Record<string, string>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const n = await docker.getNode(id).inspect();
    try {
      await docker.getNode(id).update({ version: n.Version.Index, ...n.Spec, Labels: change({ ...n.Spec.Labels }) });
      return;
    } catch (err) {
      // Another test changed the node in between: its version moved on.
      if (attempt >= 3) throw err;
    }
  }
}

beforeAll(async () => {
  const node2 = dockerClient(parseDockerHost(t.bed.node2DockerHost));
  node2Id = (await node2.info()).Swarm.NodeID;
  await setNodeLabels(node2Id, (labels) => ({ ...labels, [NODE_LABEL]: 'yes' }));
  // The worker lends stacks the files under `files` (its shown secrets excepted) and SCIOPS_SECRET_*/SCIOPS_CONFIG_* variables.
  const guard = createSourceGuard(
    readStackSourcePolicy({ SCIOPS_SECRET_FILE_ROOTS: files, SCIOPS_CONFIG_FILE_ROOTS: files }, [path.join(files, 'shown')]),
  );
  secrets = createStackSecrets(docker, path.join(files, 'shown'), guard);
  configs = createStackConfigs(docker, guard);
  externals = createStackExternals(docker);
  services = createStackServices(docker);
});

afterAll(async () => {
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
  const ours = (name: string | undefined) => name?.startsWith(stack) === true;
  // Services first: the swarm keeps the secrets and configs a service uses.
  for (const s of await docker.listServices()) if (ours(s.Spec?.Name)) await quietly(docker.getService(s.ID).remove());
  for (const s of await docker.listSecrets()) if (ours(s.Spec?.Name)) await quietly(docker.getSecret(s.ID).remove());
  for (const c of await docker.listConfigs()) if (ours(c.Spec?.Name)) await quietly(docker.getConfig(c.ID).remove());
  for (const n of await docker.listNetworks()) if (ours(n.Name)) await quietly(docker.getNetwork(n.Id).remove());
  for (const v of (await docker.listVolumes()).Volumes ?? []) if (ours(v.Name)) await quietly(docker.getVolume(v.Name).remove());
  rmSync(files, { recursive: true, force: true });
  if (node2Id !== undefined) {
    await setNodeLabels(node2Id, (labels) => {
      delete labels[NODE_LABEL];
      return labels;
    });
  }
});

describe('secrets in versions', () => {
  it('a generated secret: created once under its swarm name, with both stacks’ labels; raised version rotates', async () => {
    const pw = secret({ name: 'pw', generate: { length: 20 }, templateDriver: 'golang', labels: { team: 'lab' } });
    expect(await secrets.secretStatus({ stack, secret: pw })).toEqual({ change: 'create' });
    // The status created nothing.
    expect(await docker.listSecrets({ filters: { name: [`${stack}_pw`] } })).toEqual([]);

    const first = await secrets.ensureSecret({ stack, secret: pw });
    expect(first).toMatchObject({ change: 'create', ref: { name: 'pw', dockerName: `${stack}_pw` } });
    const inspected = await docker.getSecret(first.ref.id).inspect();
    expect(inspected.Spec?.Labels).toMatchObject({
      team: 'lab',
      [STACK_LABEL]: stack,
      [NAMESPACE_LABEL]: stack,
      'sciops.secret': 'pw',
      'sciops.secret-version': '1',
      'sciops.fingerprint': first.fingerprint,
    });
    expect(inspected.Spec?.Templating).toEqual({ Name: 'golang' });

    expect(await secrets.secretStatus({ stack, secret: pw })).toEqual({ change: 'unchanged', ref: first.ref });
    expect(await secrets.ensureSecret({ stack, secret: pw })).toMatchObject({ change: 'unchanged', ref: first.ref });

    const v2 = { ...pw, version: 2 };
    expect(await secrets.secretStatus({ stack, secret: v2 })).toEqual({ change: 'rotate' });
    const rotated = await secrets.ensureSecret({ stack, secret: v2 });
    expect(rotated).toMatchObject({ change: 'rotate', ref: { dockerName: `${stack}_pw_v2` } });
    expect(rotated.shownAt).toBe(path.join(files, 'shown', `${stack}_pw_v2`));

    expect(await secrets.pruneSecretVersions({ stack, name: 'pw', keep: 1 })).toEqual([`${stack}_pw`]);
    expect(
      (await docker.listSecrets({ filters: { label: [`sciops.secret=pw`, `${STACK_LABEL}=${stack}`] } })).map((s) => s.Spec?.Name),
    ).toEqual([`${stack}_pw_v2`]);
  });

  it('a file secret rotates when the file changes, under its dockerName; the value is in no result', async () => {
    const source = file('token', 'first-value-7f3a');
    const token = secret({ name: 'token', dockerName: `${stack}-token`, file: source });
    const created = await secrets.ensureSecret({ stack, secret: token });
    expect(created).toMatchObject({ change: 'create', ref: { dockerName: `${stack}-token` } });
    expect(await secrets.secretStatus({ stack, secret: token })).toMatchObject({ change: 'unchanged' });

    writeFileSync(source, 'second-value-9c1e');
    const status = await secrets.secretStatus({ stack, secret: token });
    expect(status).toEqual({ change: 'rotate' });
    const rotated = await secrets.ensureSecret({ stack, secret: token });
    expect(rotated).toMatchObject({ change: 'rotate', ref: { dockerName: `${stack}-token_v2` } });
    expect(JSON.stringify([created, status, rotated])).not.toMatch(/value-7f3a|value-9c1e/);
  });

  it('an unset variable or a name sciops did not make fails, non-retryable, naming the field', async () => {
    const unset = await failure(secrets.secretStatus({ stack, secret: secret({ name: 'fromenv', env: `SCIOPS_SECRET_UNSET_${stack}` }) }));
    expect(unset).toMatchObject({ type: 'SecretRejected', nonRetryable: true });
    expect(unset.message).toBe(`secrets.fromenv.env: SCIOPS_SECRET_UNSET_${stack} is not set in the environment of the manager's worker`);

    await docker.createSecret({ Name: `${stack}_taken`, Data: Buffer.from('x').toString('base64') });
    process.env[`SCIOPS_SECRET_${stack}`] = 'from-the-environment';
    const taken = await failure(secrets.ensureSecret({ stack, secret: secret({ name: 'taken', env: `SCIOPS_SECRET_${stack}` }) }));
    expect(taken).toMatchObject({ type: 'SecretRejected', nonRetryable: true });
    expect(taken.message).toMatch(new RegExp(`^secrets\\.taken: a secret named ${stack}_taken already exists on the swarm`));
  });
});

describe('configs in versions', () => {
  it('inline content: created with labels and templating, unchanged, a changed content is version 2', async () => {
    const app = config({ name: 'app', content: 'listen 80\n', templateDriver: 'golang' });
    expect(await configs.configStatus({ stack, config: app })).toEqual({ change: 'create' });
    const first = await configs.ensureConfig({ stack, config: app });
    expect(first).toMatchObject({ change: 'create', ref: { name: 'app', dockerName: `${stack}_app` } });
    const inspected = (await docker.getConfig(first.ref.id).inspect()) as {
      Spec: { Labels: Record<string, string>; Data: string; Templating?: { Name: string } };
    };
    expect(inspected.Spec.Labels).toMatchObject({
      [STACK_LABEL]: stack,
      [NAMESPACE_LABEL]: stack,
      'sciops.config': 'app',
      'sciops.config-version': '1',
    });
    expect(inspected.Spec.Labels['sciops.fingerprint']).toMatch(/^[0-9a-f]{16}$/);
    expect(Buffer.from(inspected.Spec.Data, 'base64').toString()).toBe('listen 80\n');
    expect(inspected.Spec.Templating).toEqual({ Name: 'golang' });

    expect(await configs.configStatus({ stack, config: app })).toEqual({ change: 'unchanged', ref: first.ref });
    expect(await configs.ensureConfig({ stack, config: app })).toEqual({ change: 'unchanged', ref: first.ref });

    const changed = { ...app, content: 'listen 8080\n' };
    expect(await configs.configStatus({ stack, config: changed })).toEqual({ change: 'rotate' });
    expect((await docker.listConfigs({ filters: { label: [`sciops.config=app`] } })).length).toBe(1);
    const v2 = await configs.ensureConfig({ stack, config: changed });
    expect(v2).toMatchObject({ change: 'rotate', ref: { dockerName: `${stack}_app_v2` } });
    expect(await configs.pruneConfigVersions({ stack, name: 'app', keep: 2 })).toEqual([]);
    expect(await configs.pruneConfigVersions({ stack, name: 'app', keep: 1 })).toEqual([`${stack}_app`]);
    await configs.removeConfig({ id: v2.ref.id });
    await configs.removeConfig({ id: v2.ref.id });
  });

  it('pruning keeps the versions a service still uses', async () => {
    const used = config({ name: 'used', content: 'a' });
    const v1 = await configs.ensureConfig({ stack, config: used });
    const consumer = serviceRequest(
      stack,
      serviceSchema.parse({ name: 'consumer', image: 'local/busybox:1', command: ['sleep', '3600'], configs: ['used'] }),
      { ...context, configs: { used: v1.ref } },
    );
    await services.ensureService({ request: consumer, withRegistryAuth: false });
    const v2 = await configs.ensureConfig({ stack, config: { ...used, content: 'b' } });
    expect(v2.change).toBe('rotate');
    expect(await configs.pruneConfigVersions({ stack, name: 'used', keep: 1 })).toEqual([]);
    await services.removeService({ name: consumer.Name });
    expect(await configs.pruneConfigVersions({ stack, name: 'used', keep: 1 })).toEqual([`${stack}_used`]);
  });

  it('from a file or a variable of this worker; unreadable or unset fails naming configs.<name>.<field>', async () => {
    const fromFile = await configs.ensureConfig({ stack, config: config({ name: 'nginx', file: file('nginx.conf', 'server {}\n') }) });
    expect(fromFile.change).toBe('create');
    process.env[`SCIOPS_CONFIG_TEST_${stack}`] = 'key=value';
    const fromEnv = await configs.ensureConfig({ stack, config: config({ name: 'envconf', env: `SCIOPS_CONFIG_TEST_${stack}` }) });
    const data = ((await docker.getConfig(fromEnv.ref.id).inspect()) as { Spec: { Data: string } }).Spec.Data;
    expect(Buffer.from(data, 'base64').toString()).toBe('key=value');

    const missing = path.join(files, 'no-such.conf');
    const unreadable = await failure(configs.configStatus({ stack, config: config({ name: 'gone', file: missing }) }));
    expect(unreadable).toMatchObject({ type: 'ConfigRejected', nonRetryable: true });
    expect(unreadable.message).toBe(`configs.gone.file: ${missing} cannot be read on the manager's worker (ENOENT)`);
    const unset = await failure(configs.ensureConfig({ stack, config: config({ name: 'noenv', env: `SCIOPS_CONFIG_UNSET_${stack}` }) }));
    expect(unset.message).toBe(`configs.noenv.env: SCIOPS_CONFIG_UNSET_${stack} is not set in the environment of the manager's worker`);
  });
});

describe("what a stack may read on the manager's worker", () => {
  // Activity inputs are not checked by the schema (anything that reaches Temporal can schedule an activity):
  // the activities check the source themselves, before reading it or touching the swarm.
  const created = async () => (await docker.listSecrets()).filter((x) => x.Spec?.Name?.startsWith(`${stack}_leak`)).length;
  const raw = (input: Record<string, unknown>) => ({ ...secret({ name: 'leak', generate: {} }), generate: undefined, ...input });

  it('a file outside the roots (the codec keys under /run/secrets) is refused, read nowhere', async () => {
    const err = await failure(secrets.ensureSecret({ stack, secret: raw({ file: '/run/secrets/codec_keys' }) }));
    expect(err).toMatchObject({ type: 'SecretRejected', nonRetryable: true });
    expect(err.message).toBe(
      `secrets.leak.file: /run/secrets/codec_keys is not under SCIOPS_SECRET_FILE_ROOTS (${files}) on the manager's worker: put the file there, or add its directory to SCIOPS_SECRET_FILE_ROOTS`,
    );
    const cfg = await failure(
      configs.configStatus({ stack, config: { ...config({ name: 'leak', content: 'x' }), content: undefined, file: '/etc/passwd' } }),
    );
    expect(cfg).toMatchObject({ type: 'ConfigRejected', nonRetryable: true });
    expect(cfg.message).toMatch(/^configs\.leak\.file: \/etc\/passwd is not under SCIOPS_CONFIG_FILE_ROOTS/);
    expect(await created()).toBe(0);
  });

  it('a symlink under the root that leads out of it is refused, and so is one into sciops’ own secrets', async () => {
    const outside = tempDir('outside');
    writeFileSync(path.join(outside, 'private'), 'not-for-stacks-5d2c');
    symlinkSync(path.join(outside, 'private'), path.join(files, 'escape'));
    symlinkSync(outside, path.join(files, 'escape-dir'));
    mkdirSync(path.join(files, 'shown'), { recursive: true });
    writeFileSync(path.join(files, 'shown', 'omics_pw'), 'generated-3b9e');
    symlinkSync(path.join(files, 'shown', 'omics_pw'), path.join(files, 'to-shown'));
    const escaped = await failure(secrets.ensureSecret({ stack, secret: raw({ file: path.join(files, 'escape') }) }));
    expect(escaped.message).toBe(
      `secrets.leak.file: ${path.join(files, 'escape')} (it resolves to ${path.join(outside, 'private')}) is not under SCIOPS_SECRET_FILE_ROOTS (${files}) on the manager's worker: put the file there, or add its directory to SCIOPS_SECRET_FILE_ROOTS`,
    );
    const viaDir = await failure(secrets.secretStatus({ stack, secret: raw({ file: path.join(files, 'escape-dir', 'private') }) }));
    expect(viaDir.message).toContain(`(it resolves to ${path.join(outside, 'private')}) is not under SCIOPS_SECRET_FILE_ROOTS`);
    const shown = await failure(secrets.ensureSecret({ stack, secret: raw({ file: path.join(files, 'to-shown') }) }));
    expect(shown.message).toMatch(/is never read for a stack: it reaches .*shown, which sciops keeps to itself$/);
    expect(await created()).toBe(0);
    rmSync(outside, { recursive: true, force: true });
  });

  it('a variable without the prefix (an AWS key, a GitLab token) is refused even when set', async () => {
    process.env[`AWS_SECRET_ACCESS_KEY_${stack}`] = 'aws-secret-8e1f';
    const err = await failure(secrets.ensureSecret({ stack, secret: raw({ env: `AWS_SECRET_ACCESS_KEY_${stack}` }) }));
    expect(err).toMatchObject({ type: 'SecretRejected', nonRetryable: true });
    expect(err.message).toMatch(new RegExp(`^secrets\\.leak\\.env: AWS_SECRET_ACCESS_KEY_${stack} is not a variable stacks may read`));
    // A secret's variable is no config's: the config prefix is its own.
    process.env[`SCIOPS_SECRET_X_${stack}`] = 'secret-value-0a4d';
    const asConfig = await failure(
      configs.ensureConfig({
        stack,
        config: { ...config({ name: 'leak', content: 'x' }), content: undefined, env: `SCIOPS_SECRET_X_${stack}` },
      }),
    );
    expect(asConfig.message).toMatch(/gives a config only variables named SCIOPS_CONFIG_\*/);
    expect(JSON.stringify([err, asConfig])).not.toMatch(/aws-secret-8e1f|secret-value-0a4d/);
    expect(await created()).toBe(0);
    expect((await docker.listConfigs()).filter((c) => c.Spec?.Name === `${stack}_leak`)).toEqual([]);
  });
});

describe('externals and paths', () => {
  it('finds external objects by exact swarm name, and names the missing ones', async () => {
    await docker.createNetwork({ Name: `${stack}_extnet`, Driver: 'overlay', Attachable: true });
    await docker.createNetwork({ Name: `${stack}_localnet`, Driver: 'bridge' });
    await docker.createVolume({ Name: `${stack}_extvol` });
    const s = (await docker.createSecret({ Name: `${stack}_extsecret`, Data: Buffer.from('s').toString('base64') })) as { id: string };
    const c = (await docker.createConfig({ Name: `${stack}_extconfig`, Data: Buffer.from('c').toString('base64') })) as { id: string };

    const found = await externals.findExternals({
      // `${stack}_ext` is a prefix of each of them, which the engine's name filter would match.
      networks: [`${stack}_extnet`, `${stack}_localnet`, `${stack}_ext`, 'host'],
      volumes: [`${stack}_extvol`, `${stack}_ext`],
      secrets: [`${stack}_extsecret`, `${stack}_ext`],
      configs: [`${stack}_extconfig`, `${stack}_ext`],
    });
    expect(found.missing).toEqual([
      { kind: 'network', name: `${stack}_localnet` },
      { kind: 'network', name: `${stack}_ext` },
      { kind: 'volume', name: `${stack}_ext` },
      { kind: 'secret', name: `${stack}_ext` },
      { kind: 'config', name: `${stack}_ext` },
    ]);
    expect(found.secrets).toEqual({ [`${stack}_extsecret`]: { name: `${stack}_extsecret`, dockerName: `${stack}_extsecret`, id: s.id } });
    expect(found.configs).toEqual({ [`${stack}_extconfig`]: { name: `${stack}_extconfig`, dockerName: `${stack}_extconfig`, id: c.id } });
    expect(await externals.findExternals({ networks: [], volumes: [], secrets: [], configs: [] })).toEqual({
      missing: [],
      secrets: {},
      configs: {},
    });
  });

  it('names the paths that do not exist on this worker', async () => {
    const present = file('present.txt', 'x');
    mkdirSync(path.join(files, 'dir'), { recursive: true });
    const missing = path.join(files, 'absent');
    const underFile = path.join(present, 'child');
    expect(await externals.missingPaths({ paths: [present, path.join(files, 'dir'), missing, underFile, missing] })).toEqual([
      missing,
      underFile,
    ]);
  });
});

/** Every task state the engine reported for a service while `during` ran. */
async function statesWhile<T>(name: string, during: Promise<T>): Promise<{ result: T; states: string[] }> {
  const states: string[] = [];
  let done = false;
  const watching = (async () => {
    while (!done) {
      const tasks = (await docker.listTasks({ filters: { service: [name] } }).catch(() => [])) as Task[];
      for (const t of tasks) if (!states.includes(t.Status.State)) states.push(t.Status.State);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    return { result: await during, states };
  } finally {
    done = true;
    await watching;
  }
}

const wait = (name: string, extra: Partial<Parameters<ReturnType<typeof createStackServices>['waitConverged']>[0]> = {}) =>
  inActivity(() =>
    services.waitConverged({
      name: `${stack}_${name}`,
      mode: 'replicated',
      replicas: 1,
      finishes: false,
      seconds: 60,
      stableSeconds: 1,
      ...extra,
    }),
  );

describe('convergence against the engine', () => {
  it('a task with a healthcheck is `starting` until healthy, and counts from then on', async () => {
    const hc = request({
      name: 'healthy',
      command: ['sh', '-c', 'sleep 4; touch /tmp/ok; sleep 3600'],
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ok'], interval: '1s', retries: 3, startPeriod: '30s' },
    });
    expect(await services.ensureService({ request: hc, withRegistryAuth: false })).toEqual({ change: 'create' });
    const started = Date.now();
    const { result, states } = await statesWhile(hc.Name, wait('healthy'));
    expect(result).toEqual({ running: 1, complete: 0 });
    expect(states).toContain('starting');
    expect(states.indexOf('starting')).toBeLessThan(states.indexOf('running'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(await services.ensureService({ request: hc, withRegistryAuth: false })).toEqual({ change: 'unchanged' });
  });

  it('a task that never gets healthy fails at the deadline, saying its tasks are not healthy', async () => {
    const sick = request({
      name: 'unhealthy',
      command: ['sleep', '3600'],
      healthcheck: { test: ['CMD', 'false'], interval: '1s', retries: 1, startPeriod: '60s' },
    });
    await services.ensureService({ request: sick, withRegistryAuth: false });
    const started = Date.now();
    const err = await failure(wait('unhealthy', { seconds: 8 }));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(err).toMatchObject({ type: 'ServiceNotConverged', nonRetryable: true });
    expect(err.message).toMatch(
      new RegExp(
        `^service ${stack}_unhealthy: not converged after 8s: 0/1 tasks running \\(1 starting \\(not healthy: its healthcheck has not passed\\)\\)`,
      ),
    );
  });

  it('a service meant to finish converges once its tasks completed, and fails at once when one failed (no hang)', async () => {
    await services.ensureService({
      request: request({ name: 'once', replicas: 2, command: ['sh', '-c', 'sleep 1'], restartPolicy: { condition: 'none' } }),
      withRegistryAuth: false,
    });
    expect(await wait('once', { replicas: 2, finishes: true, seconds: 30 })).toEqual({ running: 0, complete: 2 });

    await services.ensureService({
      request: request({ name: 'broken', command: ['sh', '-c', 'sleep 1; exit 3'], restartPolicy: { condition: 'none' } }),
      withRegistryAuth: false,
    });
    const started = Date.now();
    const err = await failure(wait('broken', { finishes: true, seconds: 60 }));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(err).toMatchObject({ type: 'ServiceNotConverged', nonRetryable: true });
    expect(err.message).toMatch(/a task in slot 1 ended failed: task: non-zero exit \(3\) and its restart condition is none/);
  });

  it('on-failure that keeps failing ends at the deadline with the tasks’ errors', async () => {
    await services.ensureService({
      request: request({
        name: 'retrying',
        command: ['sh', '-c', 'exit 4'],
        restartPolicy: { condition: 'on-failure', delay: '1s', maxAttempts: 1 },
      }),
      withRegistryAuth: false,
    });
    const err = await failure(wait('retrying', { finishes: true, seconds: 8 }));
    expect(err.message).toMatch(
      new RegExp(`^service ${stack}_retrying: not converged after 8s: 0/1 tasks complete .*non-zero exit \\(4\\)`),
    );
  });

  it('after an update, only the tasks of the new spec count', async () => {
    const v1 = request({ name: 'job', command: ['sh', '-c', 'true'], restartPolicy: { condition: 'none' } });
    await services.ensureService({ request: v1, withRegistryAuth: false });
    await wait('job', { finishes: true, seconds: 30 });
    const v2 = request({ name: 'job', command: ['sh', '-c', 'sleep 4'], restartPolicy: { condition: 'none' } });
    expect(await services.ensureService({ request: v2, withRegistryAuth: false })).toEqual({ change: 'update' });
    const started = Date.now();
    expect(await wait('job', { finishes: true, seconds: 30 })).toEqual({ running: 0, complete: 1 });
    // The first spec's completed task was there all along: the wait lasted the new task's 4 seconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3500);
  });

  it('a global service converges with one task on each eligible node', async () => {
    await services.ensureService({
      request: request({ name: 'labelled', mode: 'global', command: ['sleep', '3600'], constraints: [`node.labels.${NODE_LABEL}==yes`] }),
      withRegistryAuth: false,
    });
    expect(await wait('labelled', { mode: 'global' })).toEqual({ running: 1, complete: 0 });
    const [onNode] = (await docker.listTasks({ filters: { service: [`${stack}_labelled`], 'desired-state': ['running'] } })) as Task[];
    expect(onNode?.NodeID).toBe(node2Id);

    await services.ensureService({
      request: request({ name: 'everywhere', mode: 'global', command: ['sleep', '3600'] }),
      withRegistryAuth: false,
    });
    const ready = (await docker.listNodes()).filter((n) => n.Status?.State === 'ready' && n.Spec?.Availability === 'active');
    expect(await wait('everywhere', { mode: 'global' })).toEqual({ running: ready.length, complete: 0 });

    await services.ensureService({
      request: request({
        name: 'globaljob',
        mode: 'global',
        command: ['true'],
        constraints: [`node.labels.${NODE_LABEL}==yes`],
        restartPolicy: { condition: 'none' },
      }),
      withRegistryAuth: false,
    });
    expect(await wait('globaljob', { mode: 'global', finishes: true, seconds: 30 })).toEqual({ running: 0, complete: 1 });
  });
});

/** A pass-through to the engine that records each request's X-Registry-Auth header and body. */
async function recordingEngine(): Promise<{
  docker: Dockerode;
  seen: Array<{ url: string; auth?: string; body: string }>;
  close: () => Promise<void>;
}> {
  const seen: Array<{ url: string; auth?: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const auth = req.headers['x-registry-auth'];
      seen.push({ url: req.url ?? '', body: body.toString(), ...(typeof auth === 'string' ? { auth } : {}) });
      const target = endpoint.socketPath !== undefined ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
      const upstream = http.request({ ...target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  const socketPath = path.join(files, 'engine.sock');
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { docker: new Dockerode({ socketPath }), seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe('a retry after an attempt that changed the engine but lost its answer', () => {
  // A retry (attempt 2) with the heartbeat the first attempt left, as Temporal hands it over; and one without.
  const retry = <T>(begun: string | undefined, fn: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment({ attempt: 2, heartbeatDetails: begun === undefined ? undefined : { begun } }, { logger: quiet }).run(fn);

  it('a volume or network the lost attempt created is reported created (the undo removes it); one that was there is not', async () => {
    const objects = createVolumesAndNetworks(docker);
    const volume = volumeRequest(stack, volumeSchema.parse({ name: 'lost' }));
    const network = networkRequest(stack, networkSchema.parse({ name: 'lost', attachable: true }));
    // The first attempt: it creates both, then its answer never reaches the workflow.
    expect(await inActivity(() => objects.ensureVolume({ request: volume }))).toEqual({ created: true });
    expect(await inActivity(() => objects.ensureNetwork({ request: network }))).toEqual({ created: true });
    expect(await retry(`create volume ${volume.Name}`, () => objects.ensureVolume({ request: volume }))).toEqual({ created: true });
    expect(await retry(`create network ${network.Name}`, () => objects.ensureNetwork({ request: network }))).toEqual({ created: true });
    // A retry whose earlier attempt never began creating (it failed before), or a first attempt: already there.
    expect(await retry(undefined, () => objects.ensureVolume({ request: volume }))).toEqual({ created: false });
    expect(await inActivity(() => objects.ensureNetwork({ request: network }))).toEqual({ created: false });
    expect(await retry(`create volume ${stack}_other`, () => objects.ensureVolume({ request: volume }))).toEqual({ created: false });
  });

  it('a service the lost attempt created or updated is reported so (the undo removes or rolls it back)', async () => {
    const first = request({ name: 'lost', command: ['sleep', '3600'] });
    const second = request({ name: 'lost', command: ['sleep', '3601'] });
    expect(await inActivity(() => services.ensureService({ request: first, withRegistryAuth: false }))).toEqual({ change: 'create' });
    expect(await retry(`change service ${first.Name}`, () => services.ensureService({ request: first, withRegistryAuth: false }))).toEqual({
      change: 'create',
    });
    expect(await inActivity(() => services.ensureService({ request: second, withRegistryAuth: false }))).toEqual({ change: 'update' });
    expect(
      await retry(`change service ${second.Name}`, () => services.ensureService({ request: second, withRegistryAuth: false })),
    ).toEqual({
      change: 'update',
    });
    expect(await retry(undefined, () => services.ensureService({ request: second, withRegistryAuth: false }))).toEqual({
      change: 'unchanged',
    });
  });

  it('each change is recorded in the heartbeat before it is sent to the engine', async () => {
    const heard: unknown[] = [];
    // The engine as the activities see it, noting each create in the same list as the heartbeats.
    const noting = Object.create(docker) as typeof docker;
    noting.createVolume = ((...args: Parameters<typeof docker.createVolume>) => {
      heard.push('engine: create volume');
      return docker.createVolume(...args);
    }) as typeof docker.createVolume;
    noting.createService = ((...args: Parameters<typeof docker.createService>) => {
      heard.push('engine: create service');
      return (docker.createService as (...a: unknown[]) => Promise<unknown>)(...args);
    }) as typeof docker.createService;
    const volume = volumeRequest(stack, volumeSchema.parse({ name: 'heard' }));
    const env = new MockActivityEnvironment(undefined, { logger: quiet });
    env.on('heartbeat', (details: unknown) => heard.push(details));
    await env.run(() => createVolumesAndNetworks(noting).ensureVolume({ request: volume }));
    await env.run(() =>
      createStackServices(noting).ensureService({
        request: request({ name: 'heard', command: ['sleep', '3600'] }),
        withRegistryAuth: false,
      }),
    );
    expect(heard).toEqual([
      { begun: `create volume ${volume.Name}` },
      'engine: create volume',
      { begun: `change service ${stack}_heard` },
      'engine: create service',
    ]);
  });
});

describe('withRegistryAuth', () => {
  it('sends the worker’s credentials for the image’s registry to the engine, and only there', async () => {
    const dockerConfig = path.join(files, 'docker-config');
    mkdirSync(dockerConfig, { recursive: true });
    const password = `pw-${stack}-do-not-leak`;
    // local/busybox:1 is a Docker Hub name: the entry is the one `docker login` writes for Hub.
    writeFileSync(
      path.join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from(`deployer:${password}`).toString('base64') } } }),
    );
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dockerConfig;
    const engine = await recordingEngine();
    try {
      const recorded = createStackServices(engine.docker);
      const v1 = request({ name: 'private', command: ['sleep', '3600'] });
      const created = await recorded.ensureService({ request: v1, withRegistryAuth: true });
      const v2 = request({ name: 'private', command: ['sleep', '3601'] });
      const updated = await recorded.ensureService({ request: v2, withRegistryAuth: true });
      const v3 = request({ name: 'private', command: ['sleep', '3602'] });
      await recorded.ensureService({ request: v3, withRegistryAuth: false });
      expect([created, updated]).toEqual([{ change: 'create' }, { change: 'update' }]);

      const writes = engine.seen.filter((r) => /\/services\/(create|[^/]+\/update)/.test(r.url));
      // Which call each write is (by its command); an update is sent again when the swarm answers that the
      // service changed since it was inspected (its allocator, on a busy engine), so a call may write twice.
      const call = (r: { url: string; body: string }) =>
        r.url.includes('/services/create')
          ? 'v1'
          : r.body.includes('"sleep","3601"')
            ? 'v2'
            : r.body.includes('"sleep","3602"')
              ? 'v3'
              : r.url;
      const calls = writes.map(call);
      expect(calls.filter((c, i) => c !== calls[i - 1])).toEqual(['v1', 'v2', 'v3']);
      const decoded = writes.map((r) => (r.auth === undefined ? undefined : JSON.parse(Buffer.from(r.auth, 'base64url').toString())));
      const expected = { username: 'deployer', password, serveraddress: 'https://index.docker.io/v1/' };
      expect(decoded).toEqual(calls.map((c) => (c === 'v3' ? undefined : expected)));
      // Nowhere else: not in the request's query or body, nor in any result.
      for (const r of engine.seen) expect(`${r.url} ${r.body}`).not.toContain(password);
      expect(JSON.stringify([created, updated])).not.toContain(password);

      // The engine took the header: the service runs.
      expect(await wait('private')).toEqual({ running: 1, complete: 0 });
    } finally {
      await engine.close();
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });
});
