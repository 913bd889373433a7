import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadComposeStack } from '../../clients/compose-files';
import { parseDockerHost } from '../../common/config';
import { Queue } from '../../common/queues';
import type { DeployReport, StackSpec } from '../../common/stack';
import type { StackPlan } from '../../common/stack-plan';
import { WorkflowType } from '../../common/workflow-types';
import { dockerClient } from '../../workers/create-workers';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { useTestbed, type WorkerOptions } from '../support/harness';
import {
  dockerStackDeploy,
  dockerStackRm,
  inspectStack,
  NAMESPACE_LABEL,
  normalise,
  readEnvFile,
  specDifferences,
} from '../support/stack-oracle';

const NODE2 = 'sciops-node2';
const CORPUS = path.resolve(__dirname, '../../../shared/compose-corpus');
const FIXTURES = path.resolve(__dirname, '../fixtures/compose');
const stamp = Date.now().toString(36);
/** Where the copies live: the manager's worker reads secret and config files under it only (its file roots). */
const projects = tempDir('compose-projects');
let managerNode: string;
const t = useTestbed({
  before: async (t) => {
    managerNode = (await t.docker.info()).Name;
  },
  workers: (t): WorkerOptions[] => [
    // The copies' secret and config files are read where the compose loader resolved them: under `projects`.
    {
      queues: ['sciops', 'docker'],
      node: managerNode,
      env: { SCIOPS_SECRETS_DIR: tempDir('secrets'), SCIOPS_SECRET_FILE_ROOTS: projects, SCIOPS_CONFIG_FILE_ROOTS: projects },
    },
    { queues: [], node: NODE2, env: { DOCKER_HOST: t.bed.node2DockerHost } },
  ],
});
const { docker } = t;
const node2 = dockerClient(parseDockerHost(t.bed.node2DockerHost));
const made: string[] = [];
const dockerMade: string[] = [];
const externals: Array<() => Promise<unknown>> = [];

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;

/** A copy of a fixture folder to deploy from (never the shared corpus itself). */
function copyOf(folder: string): string {
  const dir = path.join(projects, `${path.basename(folder)}-${uniqueId('copy')}`);
  cpSync(folder, dir, { recursive: true });
  return dir;
}

/** The spec sciops makes of compose files, as `sciops deploy -c` does, with the environment the test gives. */
function composeSpec(stack: string, files: string[], env: Record<string, string> = {}): StackSpec {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return loadComposeStack(stack, { files }).spec;
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
  }
}

async function ensureVolume(engine: Dockerode, name: string) {
  await engine.createVolume({ Name: name });
  externals.push(() => engine.getVolume(name).remove());
}

afterAll(async () => {
  for (const stack of made) await run(WorkflowType.teardownStack, { stack, purge: true }).catch(() => undefined);
  for (const stack of dockerMade) await dockerStackRm(stack, { docker, volumesOn: [docker, node2] }).catch(() => undefined);
  for (const undo of externals.reverse()) await undo().catch(() => undefined);
});

/**
 * The oracle: one compose file deployed by `docker stack deploy`, inspected and removed, then by sciops
 * (one after the other: both publish the same ports); the normalised objects compared.
 */
async function compare(files: string[], env: Record<string, string>, allocatedIpam: string[] = [], waitForVolumes = false) {
  const theirs = `d${stamp}${dockerMade.length}`;
  const ours = `s${stamp}${made.length}`;
  dockerMade.push(theirs);
  const printed = await dockerStackDeploy(files, theirs, { env });
  const engines = { docker, volumeEngines: [docker, node2] };
  // docker's engines make its volumes as its tasks start (where the images exist): wait for as many as sciops makes.
  const expected = composeSpec(ours, files, env).volumes.filter((v) => !v.external).length;
  const left = await eventually(`the volumes of ${theirs}`, 60_000, async () => {
    const found = normalise(await inspectStack(theirs, 'namespace-label', engines), theirs, { allocatedIpam });
    const own = Object.values(found.volumes).filter(
      (v) => (v.Labels as Record<string, string> | undefined)?.[NAMESPACE_LABEL] === '<stack>',
    );
    return own.length >= expected || !waitForVolumes ? found : undefined;
  });
  await dockerStackRm(theirs, { docker, volumesOn: [docker, node2] });
  made.push(ours);
  const report = await run<DeployReport>(WorkflowType.deployStack, { ...composeSpec(ours, files, env), detach: true });
  expect(report.changes.some((c) => c.change === 'create')).toBe(true);
  const right = normalise(await inspectStack(ours, 'namespace-label', engines), ours, { allocatedIpam });
  await run(WorkflowType.teardownStack, { stack: ours, purge: true });
  return { printed, left, right };
}

describe('the oracle: docker stack deploy and sciops make the same service specs from the same compose file', () => {
  it("Multiomix's docker-compose_dist.yml", async () => {
    const dir = copyOf(path.join(CORPUS, 'multiomix'));
    // Its TLS certificates folder is the operator's to create (the file binds it); its seven volumes are external.
    mkdirSync(path.join(dir, 'config/nginx/certificates'), { recursive: true });
    const spec = composeSpec('probe', [path.join(dir, 'docker-compose_dist.yml')]);
    for (const v of spec.volumes) await ensureVolume(docker, v.dockerName as string);
    const { printed, left, right } = await compare([path.join(dir, 'docker-compose_dist.yml')], {}, ['default']);
    expect(printed.stderr + printed.stdout).toContain('Ignoring unsupported options: restart');
    expect(specDifferences(left.services, right.services)).toEqual([]);
    expect(specDifferences(left.networks, right.networks)).toEqual([]);
    expect(Object.keys(right.services).sort()).toEqual(spec.services.map((s) => s.name).sort());
    // The one thing a hand copy got wrong: the db still runs through the image's entrypoint.
    expect(right.services.db?.TaskTemplate).toMatchObject({
      ContainerSpec: { Args: ['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf'] },
    });
  });

  it("Modulector's docker-compose_dist.yml", async () => {
    const dir = copyOf(path.join(CORPUS, 'modulector'));
    const spec = composeSpec('probe', [path.join(dir, 'docker-compose_dist.yml')]);
    for (const v of spec.volumes) await ensureVolume(docker, v.dockerName as string);
    const { left, right } = await compare([path.join(dir, 'docker-compose_dist.yml')], {}, ['default']);
    expect(specDifferences(left.services, right.services)).toEqual([]);
    expect(specDifferences(left.networks, right.networks)).toEqual([]);
  });

  it('a stack that uses every key swarm takes, with its networks, secrets, configs and volumes', async () => {
    const dir = copyOf(path.join(FIXTURES, 'every-key'));
    const env = readEnvFile(path.join(dir, '.env'));
    await docker.createNetwork({ Name: 'every_key_ext_net', Driver: 'overlay', Attachable: true });
    externals.push(() => docker.getNetwork('every_key_ext_net').remove());
    const secret = (await docker.createSecret({ Name: 'every_key_ext_secret', Data: Buffer.from('s').toString('base64') })) as unknown as {
      id: string;
    };
    externals.push(() => docker.getSecret(secret.id).remove());
    const config = (await docker.createConfig({ Name: 'every_key_ext_config', Data: Buffer.from('c').toString('base64') })) as unknown as {
      id: string;
    };
    externals.push(() => docker.getConfig(config.id).remove());
    await ensureVolume(docker, 'every_key_ext_volume');
    const { left, right } = await compare([path.join(dir, 'docker-compose.yml')], env, ['default', 'back'], true);
    expect(specDifferences(left.services, right.services)).toEqual([]);
    expect(specDifferences(left.networks, right.networks)).toEqual([]);
    expect(specDifferences(left.secrets, right.secrets)).toEqual([]);
    expect(specDifferences(left.configs, right.configs)).toEqual([]);
    // docker's engines made its volumes as tasks started; sciops made them first: the same labels and driver.
    expect(Object.keys(right.volumes).length).toBeGreaterThan(0);
    expect(specDifferences(left.volumes, right.volumes)).toEqual([]);
  });
});

describe('a Multiomix-shaped stack with real images converges, and a second deploy changes nothing', () => {
  const stack = `o${stamp}`;
  let spec: StackSpec;

  beforeAll(() => {
    made.push(stack);
    const dir = copyOf(path.join(FIXTURES, 'omics-shaped'));
    spec = composeSpec(stack, [path.join(dir, 'docker-compose.yml')]);
  });

  it('waits for the healthy database, one worker on each node and the one-shot migration to complete', async () => {
    const report = await run<DeployReport>(WorkflowType.deployStack, spec);
    expect(report.changes.filter((c) => c.kind === 'service').map((c) => `${c.name} ${c.change}`)).toEqual([
      'db create',
      'web create',
      'worker create',
      'migrate create',
    ]);
    const tasks = async (service: string) =>
      (await docker.listTasks({ filters: { service: [`${stack}_${service}`] } })) as Array<{ Status: { State: string }; NodeID: string }>;
    const containers = async (engine: Dockerode) =>
      engine.listContainers({ filters: { label: [`com.docker.swarm.service.name=${stack}_db`] } });
    const db = [...(await containers(docker)), ...(await containers(node2))];
    expect(db.map((c) => c.Status)).toEqual([expect.stringContaining('(healthy)')]);
    const worker = (await tasks('worker')).filter((t) => t.Status.State === 'running');
    expect(new Set(worker.map((t) => t.NodeID)).size).toBe(2);
    expect((await tasks('migrate')).map((t) => t.Status.State)).toEqual(['complete']);
  });

  it('a second deploy and its plan change nothing; service versions stay', async () => {
    const versions = async () =>
      (await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } }))
        .map((s) => `${s.Spec?.Name}@${s.Version?.Index}`)
        .sort();
    const before = await versions();
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, spec);
    expect(plan.problems).toEqual([]);
    expect(plan.changes.filter((c) => c.change !== 'unchanged')).toEqual([]);
    const report = await run<DeployReport>(WorkflowType.deployStack, spec);
    expect(report.unchanged).toBe(true);
    expect(await versions()).toEqual(before);
  });

  it('a changed file: the plan names the fields, the deploy applies exactly that', async () => {
    const changed = {
      ...spec,
      services: spec.services.map((s) => (s.name === 'web' ? { ...s, env: { ...s.env, DJANGO_DEBUG: 'true' } } : s)),
    };
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, changed);
    expect(plan.changes.filter((c) => c.change !== 'unchanged')).toEqual([
      { kind: 'service', name: 'web', change: 'update', details: ['env DJANGO_DEBUG added'] },
    ]);
    const report = await run<DeployReport>(WorkflowType.deployStack, changed);
    expect(report.changes.filter((c) => c.change !== 'unchanged').map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'service web update',
    ]);
  });
});

describe('bad input: one clear error, nothing created', () => {
  const stackCount = async (stack: string) =>
    (await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${stack}`] } })).length +
    (await docker.listNetworks({ filters: { label: [`com.docker.stack.namespace=${stack}`] } })).length;

  it('a missing external network fails the plan, naming it; nothing is created', async () => {
    const stack = `x${stamp}`;
    made.push(stack);
    const spec = {
      name: stack,
      networks: [{ name: 'shared', external: true, dockerName: `nope_${stamp}` }, { name: 'own' }],
      services: [{ name: 'web', image: 'local/busybox:1', command: ['sleep', '60'], networks: ['shared', 'own'] }],
    };
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('StackRejected');
    expect(failure.message).toContain(`networks[0]: external network nope_${stamp} does not exist`);
    expect(await stackCount(stack)).toBe(0);
  });

  it('a bind source that does not exist fails the plan, naming the field; nothing is created', async () => {
    const stack = `b${stamp}`;
    made.push(stack);
    const dir = copyOf(path.join(FIXTURES, 'omics-shaped'));
    const spec = composeSpec(stack, [path.join(dir, 'docker-compose.yml')]);
    const missing = path.join(dir, 'config/postgres/postgres.conf');
    await import('node:fs').then((fs) => fs.rmSync(missing));
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('StackRejected');
    expect(failure.message).toContain(`services[0].volumes[1].source: ${missing} does not exist on the manager's worker`);
    expect(await stackCount(stack)).toBe(0);
  });
});
