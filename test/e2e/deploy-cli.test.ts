import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { readSpecFile } from '../../clients/spec-file';
import { CliProcess, runCli } from '../support/cli';
import { tempDir } from '../support/experiments';
import { useTestbed } from '../support/harness';

const dir = tempDir('deploy-cli');
const secretsDir = path.join(dir, 'secrets');
const stack = `omics${Date.now().toString(36)}`;
let env: NodeJS.ProcessEnv;
/** A worker process of its own, so that its log can be searched for secret values. */
let worker: CliProcess;
let file: string;
const { docker } = useTestbed();

beforeAll(async () => {
  env = { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: 'default' };
  worker = new CliProcess(
    ['--queues', 'sciops,docker'],
    { ...env, SCIOPS_SECRETS_DIR: secretsDir, SCIOPS_RECOVERY_MINUTES: '0' },
    'worker',
  );
  await worker.waitFor(/polling sciops, docker/, 60_000);
  // The omics example, under a name (and without a fixed subnet and port) no other run has used.
  const example = readSpecFile(path.resolve(__dirname, '../../examples/stacks/omics-platform.yaml')) as {
    name: string;
    networks: Array<{ ipam?: unknown }>;
    services: Array<{ ports?: unknown[] }>;
  };
  example.name = stack;
  for (const n of example.networks) delete n.ipam;
  for (const s of example.services) delete s.ports;
  file = path.join(dir, 'stack.yaml');
  writeFileSync(file, stringify(example));
});

afterAll(async () => {
  await runCli(['teardown', stack, '--purge'], env, 120_000).catch(() => undefined);
  await worker?.stop('SIGTERM', 30_000);
});

describe('sciops deploy and teardown with the omics example', () => {
  it('--plan lists what would be created and creates nothing', async () => {
    const plan = await runCli(['deploy', file, '--plan'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('create     volume   postgres-data');
    expect(plan.stdout).toContain('create     service  worker');
    expect((await docker.listServices({ filters: { label: [`sciops.stack=${stack}`] } })).length).toBe(0);
  });

  it('deploys, prints where the generated secrets wait and never their values (nor does the worker log); a second run changes nothing', async () => {
    const first = await runCli(['deploy', file], env, 180_000);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const files = [...first.stdout.matchAll(/read it once from (\S+) \(mode 0600\)/g)].map((m) => m[1]);
    expect(files.map((f) => path.basename(f)).sort()).toEqual([`${stack}_django_secret_key`, `${stack}_postgres_password`]);
    for (const f of files) {
      const value = readFileSync(f, 'utf8').trim();
      expect(value.length).toBeGreaterThanOrEqual(32);
      expect(first.stdout).not.toContain(value);
      expect(worker.stdout + worker.stderr).not.toContain(value);
    }
    expect((await docker.listVolumes({ filters: { label: [`sciops.stack=${stack}`] } })).Volumes).toHaveLength(7);

    const second = await runCli(['deploy', file], env, 60_000);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing changed: the stack already matches its spec');
  });

  it('teardown keeps the volumes and secrets unless --purge', async () => {
    const kept = await runCli(['teardown', stack], env, 120_000);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`removed  service ${stack}_web`);
    expect(kept.stdout).toContain(`kept     secret ${stack}_postgres_password`);
    expect((await docker.listVolumes({ filters: { label: [`sciops.stack=${stack}`] } })).Volumes).toHaveLength(7);
  });

  it('a second deploy while one of the same stack runs is refused, naming the running workflow', async () => {
    const running = runCli(['deploy', file], env, 100_000);
    await new Promise((r) => setTimeout(r, 2500));
    const second = await runCli(['deploy', file], env, 30_000);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`a deploy of it is running (workflow deploy-${stack})`);
    expect((await running).code).toBe(0);
  });

  it('an invalid stack file exits 2 naming the field, and starts nothing', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, stringify({ name: stack, networks: [{ name: 'n', ipam: { config: [{ subnet: '10.0.0.1/8' }] } }] }));
    const result = await runCli(['deploy', bad], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('networks[0].ipam.config[0].subnet: not an IPv4 CIDR block');
  });
});

describe('sciops deploy -c: a compose file as docker stack deploy takes it', () => {
  const fixture = path.resolve(__dirname, '../fixtures/compose/omics-shaped');
  const composeStack = `c${stack}`;
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('stack convert prints the workflow input for the Web UI form, and what swarm ignores on stderr', async () => {
    const result = await runCli(['stack', 'convert', '-c', path.join(fixture, 'docker-compose.yml'), composeStack], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Ignoring unsupported options: depends_on, restart');
    const spec = JSON.parse(result.stdout) as { name: string; services: Array<{ name: string; command?: string[]; mode: string }> };
    expect(spec.name).toBe(composeStack);
    expect(spec.services.find((x) => x.name === 'db')?.command).toEqual(['postgres', '-c', 'config_file=/etc/postgresql/postgresql.conf']);
    expect(spec.services.find((x) => x.name === 'worker')?.mode).toBe('global');
  });

  it('--plan of a compose file lists what would be made and makes nothing', async () => {
    const plan = await runCli(['deploy', '-c', path.join(fixture, 'docker-compose.yml'), composeStack, '--plan'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('create     network  default');
    expect(plan.stdout).toContain('create     service  db');
    expect((await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${composeStack}`] } })).length).toBe(0);
  });

  it.each([
    ['an unknown key', 'services:\n  web:\n    image: local/busybox:1\n    imagee: x\n', 'bad.yml:4:5 services.web.imagee: unknown key'],
    [
      'a wrong type',
      'services:\n  web:\n    image: local/busybox:1\n    deploy: { replicas: two }\n',
      'bad.yml:4:15 services.web.deploy.replicas: expected a whole number (0 or more), got "two"',
    ],
    [
      'an undefined required variable',
      `services:\n  web:\n    image: local/busybox:1\n    environment:\n      PASSWORD: $\{SCIOPS_TEST_UNSET_PASSWORD:?set the password}\n`,
      'bad.yml:5:7 services.web.environment.PASSWORD: required variable SCIOPS_TEST_UNSET_PASSWORD is unset or empty: set the password',
    ],
  ])('%s: exit 2 naming file:line and key, nothing started', async (_what, text, message) => {
    const result = await runCli(['deploy', '-c', write('bad.yml', text), `${composeStack}x`], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect((await docker.listServices({ filters: { label: [`com.docker.stack.namespace=${composeStack}x`] } })).length).toBe(0);
  });

  it('two files that conflict: exit 2 naming both', async () => {
    const a = write('a.yml', 'services:\n  web:\n    image: local/busybox:1\n    command: [sleep, "60"]\n');
    const b = write('b.yml', 'services:\n  web:\n    command: { not: a list }\n');
    const result = await runCli(['deploy', '-c', a, '-c', b, `${composeStack}y`], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('b.yml:3:');
  });
});
