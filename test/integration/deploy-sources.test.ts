import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createGitlabRunners } from '../../activities/gitlab/runners';
import { loadComposeStack } from '../../clients/compose-files';
import { Queue } from '../../common/queues';
import type { GitlabSpec } from '../../common/stack';
import type { StackPlan } from '../../common/stack-plan';
import { readStackSourcePolicy } from '../../common/stack-sources';
import { WorkflowType } from '../../common/workflow-types';
import { tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { type GitlabStub, startGitlabStub } from '../support/gitlab-stub';
import { useTestbed } from '../support/harness';

/**
 * What a stack spec may make the manager's worker read or call (security review, H2): its GitLab must be an
 * origin the worker lists, its token a SCIOPS_GITLAB_TOKEN* variable, its secret and config files under the
 * worker's roots and its variables SCIOPS_SECRET_* or SCIOPS_CONFIG_*. A real listener on loopback stands for
 * the attacker's server: it must receive nothing, from the plan or the deploy.
 */

const ACCESS_TOKEN = 'glpat-sciopsSourcesTest0001';
const stack = `src${Date.now().toString(36)}`;
const roots = tempDir('stack-files');
const outside = tempDir('not-a-root');
let gitlab: GitlabStub;

/** A loopback HTTP server that records every request and answers `status` with `body`. */
interface Listener {
  readonly url: string;
  readonly requests: string[];
  readonly server: Server;
}
async function listener(status = 200, body = '[]'): Promise<Listener> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} token=${req.headers['private-token'] ?? ''}`);
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}
let attacker: Listener;

const t = useTestbed({
  before: async () => {
    attacker = await listener();
    gitlab = await startGitlabStub({ accessToken: ACCESS_TOKEN, host: '127.0.0.1', advertise: '127.0.0.1' });
    process.env.SCIOPS_GITLAB_TOKEN_SOURCES = ACCESS_TOKEN;
    process.env.SCIOPS_SECRET_SOURCES_TEST = 'from-a-variable';
    writeFileSync(path.join(roots, 'db_password.txt'), 'in-the-root-4c1a');
    writeFileSync(path.join(outside, 'private'), 'outside-the-root-7e2b');
    symlinkSync(path.join(outside, 'private'), path.join(roots, 'link'));
  },
  workers: () => [
    {
      queues: ['sciops', 'docker'],
      env: {
        SCIOPS_SECRETS_DIR: tempDir('secrets'),
        SCIOPS_SECRET_FILE_ROOTS: roots,
        SCIOPS_CONFIG_FILE_ROOTS: roots,
        SCIOPS_GITLAB_URLS: gitlab.url,
      },
    },
  ],
  after: async () => {
    await gitlab?.close();
    attacker?.server.close();
  },
});
const { docker } = t;

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const ours = async () => {
  const label = { filters: { label: [`sciops.stack=${stack}`] } };
  const [services, secrets, networks] = await Promise.all([
    docker.listServices(label),
    docker.listSecrets(label),
    docker.listNetworks(label),
  ]);
  return [...services, ...secrets, ...networks].length;
};
const runnerSpec = (gitlab: Record<string, unknown>) => ({
  name: stack,
  gitlab,
  services: [{ name: 'r', image: 'local/busybox:1', command: ['sleep', '3600'] }],
  runners: [{ name: 'c', service: 'r', executor: 'shell' }],
});

afterAll(async () => {
  await run(WorkflowType.teardownStack, { stack, purge: true }).catch(() => undefined);
});

describe('GitLab: the token goes only to a listed origin', () => {
  it("the review's trigger (http://attacker.example, AWS_SECRET_ACCESS_KEY) is refused before the plan runs", async () => {
    const failure = await failureOf(
      run(WorkflowType.planStackDeploy, runnerSpec({ url: 'http://attacker.example', tokenEnv: 'AWS_SECRET_ACCESS_KEY' })),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('gitlab.url: http would send the access token in clear: use https://attacker.example');
    expect(failure.message).toContain("gitlab.tokenEnv: AWS_SECRET_ACCESS_KEY is not a variable the manager's worker lends to GitLab");
  });

  it('the plan of a stack whose GitLab is not in SCIOPS_GITLAB_URLS names it as a problem and sends nothing', async () => {
    const plan = await run<StackPlan>(
      WorkflowType.planStackDeploy,
      runnerSpec({ url: attacker.url, tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' }),
    );
    expect(plan.problems).toEqual([
      `gitlab.url: ${attacker.url} is not in SCIOPS_GITLAB_URLS (${gitlab.url}) on the manager's worker: add it there if that is your GitLab, or correct the URL`,
    ]);
    const failure = await failureOf(
      run(WorkflowType.deployStack, runnerSpec({ url: `${attacker.url}/gitlab`, tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' })),
    );
    expect(failure.message).toMatch(new RegExp(`^stack ${stack} cannot be deployed here, nothing was changed: gitlab\\.url: `));
    expect(attacker.requests).toEqual([]);
    expect(await ours()).toBe(0);
  });

  it('a listed GitLab is asked by the plan, with the token of a SCIOPS_GITLAB_TOKEN* variable', async () => {
    gitlab.requests.length = 0;
    const plan = await run<StackPlan>(
      WorkflowType.planStackDeploy,
      runnerSpec({ url: gitlab.url, tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' }),
    );
    expect(plan.problems).toEqual([]);
    expect(gitlab.requests).toEqual(['GET /api/v4/runners/all']);
  });

  // Activities can be scheduled by anything that reaches Temporal, past the schema: they check for themselves.
  const activities = createGitlabRunners(readStackSourcePolicy({ SCIOPS_GITLAB_URLS: 'http://127.0.0.1:1' }));
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const inActivity = <T>(fn: () => Promise<T>) => new MockActivityEnvironment(undefined, { logger: quiet }).run(fn);
  const refused = (gitlab: GitlabSpec) =>
    inActivity(() => activities.findGitlabRunner({ gitlab, type: 'instance_type', description: 'x' })).then(
      () => {
        throw new Error('expected a refusal');
      },
      (err: Error & { type?: string; nonRetryable?: boolean }) => err,
    );

  it('the GitLab activities themselves refuse an unlisted origin or a foreign variable, sending nothing', async () => {
    process.env.AWS_SECRET_ACCESS_KEY_SOURCES = 'aws-secret-value-91ad';
    const foreignVariable = await refused({ url: 'http://127.0.0.1:1', tokenEnv: 'AWS_SECRET_ACCESS_KEY_SOURCES' });
    expect(foreignVariable).toMatchObject({ type: 'RunnerFailed', nonRetryable: true });
    expect(foreignVariable.message).toMatch(
      /^the manager's worker refuses to call GitLab: gitlab\.tokenEnv: AWS_SECRET_ACCESS_KEY_SOURCES is not/,
    );
    const unlisted = await refused({ url: attacker.url, tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' });
    expect(unlisted.message).toContain(`gitlab.url: ${attacker.url} is not in SCIOPS_GITLAB_URLS (http://127.0.0.1:1)`);
    const clear = await refused({ url: 'http://10.213.0.1:8929', tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' });
    expect(clear.message).toContain('gitlab.url: http would send the access token in clear');
    expect(attacker.requests).toEqual([]);
    expect(JSON.stringify([foreignVariable, unlisted, clear])).not.toContain('aws-secret-value-91ad');
  });

  it("a GitLab's 4xx and 5xx bodies stay out of the messages (no reading internal pages through it)", async () => {
    const internal = await listener(400, '{"message":"internal-page-content-3f7c"}');
    const redirect = await listener(302, '');
    const gitlabs = createGitlabRunners(readStackSourcePolicy({ SCIOPS_GITLAB_URLS: `${internal.url},${redirect.url}` }));
    const spec = (url: string) => ({ url, tokenEnv: 'SCIOPS_GITLAB_TOKEN_SOURCES' });
    const err = await inActivity(() =>
      gitlabs.findGitlabRunner({ gitlab: spec(internal.url), type: 'instance_type', description: 'x' }),
    ).catch((e: Error & { type?: string; nonRetryable?: boolean }) => e);
    expect(err).toMatchObject({ type: 'RunnerFailed', nonRetryable: true });
    expect((err as Error).message).toBe(
      "GitLab refused GET /runners/all?type=instance_type&per_page=100&page=1 (HTTP 400): see GitLab's log for the reason (production_json.log)",
    );
    expect((err as Error).message).not.toContain('internal-page-content');
    expect(internal.requests).toHaveLength(1);
    // A redirect is not followed: the token would go where the Location says.
    const moved = await inActivity(() =>
      gitlabs.findGitlabRunner({ gitlab: spec(redirect.url), type: 'instance_type', description: 'x' }),
    ).catch((e: Error) => e);
    expect((moved as Error).message).toContain('with a redirect (HTTP 302)');
    internal.server.close();
    redirect.server.close();
  });
});

describe("secrets and configs: only what the manager's worker lends", () => {
  const spec = (secrets: Array<Record<string, unknown>>) => ({
    name: stack,
    networks: [{ name: 'net' }],
    secrets,
    services: [
      {
        name: 'app',
        image: 'local/busybox:1',
        command: ['sleep', '3600'],
        networks: ['net'],
        secrets: secrets.map((s) => s.name as string),
      },
    ],
  });

  it('a secret from /run/secrets, from outside the roots or through a symlink out of them: the plan names each, the deploy changes nothing', async () => {
    const bad = spec([
      { name: 'keys', file: '/run/secrets/codec_keys' },
      { name: 'out', file: path.join(outside, 'private') },
      { name: 'link', file: path.join(roots, 'link') },
      { name: 'ok', file: path.join(roots, 'db_password.txt') },
      { name: 'var', env: 'SCIOPS_SECRET_SOURCES_TEST' },
    ]);
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, bad);
    const notUnder = `is not under SCIOPS_SECRET_FILE_ROOTS (${roots}) on the manager's worker: put the file there, or add its directory to SCIOPS_SECRET_FILE_ROOTS`;
    expect(plan.problems).toEqual([
      `secrets[0].file: /run/secrets/codec_keys ${notUnder}`,
      `secrets[1].file: ${path.join(outside, 'private')} ${notUnder}`,
      `secrets[2].file: ${path.join(roots, 'link')} (it resolves to ${path.join(outside, 'private')}) ${notUnder}`,
    ]);
    expect(plan.changes.filter((c) => c.kind === 'secret').map((c) => `${c.name} ${c.change}`)).toEqual([
      'keys create',
      'out create',
      'link create',
      'ok create',
      'var create',
    ]);
    const failure = await failureOf(run(WorkflowType.deployStack, bad));
    expect(failure.type).toBe('StackRejected');
    expect(failure.message).toContain(`nothing was changed: secrets[0].file: /run/secrets/codec_keys ${notUnder}`);
    expect(await ours()).toBe(0);
  });

  it('a variable without the SCIOPS_SECRET_ prefix is refused before the workflow does anything', async () => {
    process.env.GITLAB_TOKEN_SOURCES = 'not-for-stacks';
    const failure = await failureOf(run(WorkflowType.deployStack, spec([{ name: 'tok', env: 'GITLAB_TOKEN_SOURCES' }])));
    expect(failure.message).toContain(
      "secrets[0].env: GITLAB_TOKEN_SOURCES is not a variable stacks may read: the manager's worker gives a secret only variables named SCIOPS_SECRET_*",
    );
    expect(await ours()).toBe(0);
  });

  it('compose files: paths resolve on the client, and the worker confines them the same way', async () => {
    const project = tempDir('compose-project');
    mkdirSync(path.join(project, 'secrets'));
    writeFileSync(path.join(project, 'secrets', 'api_key.txt'), 'compose-secret-2a9d');
    writeFileSync(
      path.join(project, 'docker-compose.yml'),
      'services:\n  app:\n    image: local/busybox:1\n    secrets: [api_key]\nsecrets:\n  api_key:\n    file: ./secrets/api_key.txt\n',
    );
    const { spec: fromCompose } = loadComposeStack(stack, { files: [path.join(project, 'docker-compose.yml')] });
    expect(fromCompose.secrets[0]?.file).toBe(path.join(project, 'secrets', 'api_key.txt'));
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, fromCompose);
    expect(plan.problems).toEqual([
      `secrets[0].file: ${path.join(project, 'secrets', 'api_key.txt')} is not under SCIOPS_SECRET_FILE_ROOTS (${roots}) on the manager's worker: put the file there, or add its directory to SCIOPS_SECRET_FILE_ROOTS`,
    ]);
  });
});
