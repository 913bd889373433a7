import { afterAll, describe, expect, it } from 'vitest';
import { parseDockerHost } from '../../common/config';
import { registeredRunners } from '../../common/gitlab-runners';
import { Queue } from '../../common/queues';
import type { DeployReport, TeardownReport } from '../../common/stack';
import type { StackPlan } from '../../common/stack-plan';
import { WorkflowType } from '../../common/workflow-types';
import { dockerClient } from '../../workers/create-workers';
import { demuxedText } from '../support/docker-streams';
import { eventually, tempDir, uniqueId } from '../support/experiments';
import { failureOf } from '../support/failures';
import { type GitlabStub, selfSignedCertificate, startGitlabStub } from '../support/gitlab-stub';
import { useTestbed, type WorkerOptions } from '../support/harness';
import { historyText } from '../support/history';

// GitLab cannot run here: a stub that answers its documented runner API stands in (test/support/gitlab-stub.ts),
// and the runner service runs a gitlab-runner stand-in (test/fixtures/gitlab-runner-stub).
const NODE2 = 'sciops-node2';
const ACCESS_TOKEN = 'glpat-sciopsTestAccessToken01';
const stack = `g${Date.now().toString(36)}`;
let gitlab: GitlabStub;
let managerNode: string;
let caFile: string;
const t = useTestbed({
  before: async (t) => {
    const info = await t.docker.info();
    managerNode = info.Name;
    // Containers on both nodes reach the host on the manager's swarm address, over https (GitLab's URL must be).
    const tls = selfSignedCertificate(tempDir('gitlab-tls'), info.Swarm.NodeAddr);
    caFile = tls.caFile;
    gitlab = await startGitlabStub({ accessToken: ACCESS_TOKEN, advertise: info.Swarm.NodeAddr, tls });
    // The manager's worker reads the access token from its environment (here: this process's).
    process.env.SCIOPS_GITLAB_TOKEN_TEST = ACCESS_TOKEN;
    process.env.SCIOPS_GITLAB_TOKEN_BAD = 'glpat-wrong';
  },
  workers: (t): WorkerOptions[] => [
    {
      queues: ['sciops', 'docker'],
      node: managerNode,
      env: { SCIOPS_SECRETS_DIR: tempDir('secrets'), SCIOPS_GITLAB_URLS: gitlab.url, SCIOPS_GITLAB_CA_FILE: caFile },
    },
    { queues: [], node: NODE2, env: { DOCKER_HOST: t.bed.node2DockerHost, SCIOPS_SECRETS_DIR: tempDir('node2-secrets') } },
  ],
  after: async () => {
    await gitlab?.close();
  },
});
const { docker } = t;
const node2 = dockerClient(parseDockerHost(t.bed.node2DockerHost));

function stackSpec(name = stack, tokenEnv = 'SCIOPS_GITLAB_TOKEN_TEST') {
  return {
    name,
    gitlab: { url: gitlab.url, tokenEnv },
    services: [{ name: 'runner', image: 'local/gitlab-runner-stub:1', constraints: [`node.hostname==${NODE2}`], convergeSeconds: 60 }],
    runners: [{ name: 'imaging-ci', service: 'runner', executor: 'docker', dockerImage: 'local/busybox:1', tags: ['gpu', 'imaging'] }],
  };
}

const run = <T>(type: string, input: unknown) =>
  t.client.workflow.execute(type, { taskQueue: Queue.workflows, workflowId: uniqueId(type), args: [input] }) as Promise<T>;
const lines = (changes: ReadonlyArray<{ kind: string; name: string; change: string }>) =>
  changes.map((c) => `${c.kind} ${c.name} ${c.change}`);
const onlyRunner = () => {
  expect(gitlab.runners.size).toBe(1);
  return [...gitlab.runners.values()][0] as NonNullable<ReturnType<typeof gitlab.runners.get>>;
};

/** The config.toml of the runner service's container on node 2. */
async function runnerConfig(): Promise<string> {
  const [container] = await node2.listContainers({ filters: { label: [`com.docker.swarm.service.name=${stack}_runner`] } });
  if (container === undefined) throw new Error('no runner container on node 2');
  const exec = await node2.getContainer(container.Id).exec({ Cmd: ['cat', '/etc/gitlab-runner/config.toml'], AttachStdout: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let raw = Buffer.alloc(0);
  for await (const chunk of stream) raw = Buffer.concat([raw, chunk as Buffer]);
  return demuxedText(raw);
}

afterAll(async () => {
  await run(WorkflowType.teardownStack, { stack, purge: true }).catch(() => undefined);
});

describe('GitLab runners of a stack', () => {
  it('plans the runner as new, asking GitLab only to list runners', async () => {
    const plan = await run<StackPlan>(WorkflowType.planStackDeploy, stackSpec());
    expect(lines(plan.changes)).toEqual(['service runner create', 'runner imaging-ci create']);
    expect(gitlab.requests).toEqual(['GET /api/v4/runners/all']);
  });

  it('creates the runner in GitLab, registers it in the runner container on its node, and waits until it is online', async () => {
    gitlab.requests.length = 0;
    const handle = await t.client.workflow.start(WorkflowType.deployStack, {
      taskQueue: Queue.workflows,
      workflowId: uniqueId('deploy'),
      args: [stackSpec()],
    });
    const report = (await handle.result()) as DeployReport;
    expect(lines(report.changes)).toEqual(['service runner create', 'runner imaging-ci create']);

    const runner = onlyRunner();
    expect(runner).toMatchObject({
      description: `sciops:${stack}/imaging-ci`,
      runner_type: 'instance_type',
      tag_list: ['gpu', 'imaging'],
      run_untagged: false,
    });
    // The order the runbook follows: create in GitLab, register (the runner verifies its token), the runner asks for
    // jobs, and the last look at the runner in GitLab finds it online.
    const at = [
      gitlab.requests.indexOf('POST /api/v4/user/runners'),
      gitlab.requests.indexOf('POST /api/v4/runners/verify'),
      gitlab.requests.indexOf('POST /api/v4/jobs/request'),
      gitlab.requests.lastIndexOf(`GET /api/v4/runners/${runner.id}`),
    ];
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(runner.contacted_at).toBeDefined();

    const config = await runnerConfig();
    expect(registeredRunners(config)).toEqual([{ name: `sciops:${stack}/imaging-ci`, id: runner.id }]);
    expect(config).toContain(runner.token);

    const history = await historyText(handle);
    expect(history).toContain(`sciops:${stack}/imaging-ci`);
    expect(history).not.toContain(runner.token);
    expect(history).not.toContain('glrt-');
    expect(history).not.toContain(ACCESS_TOKEN);
  });

  it('a second deploy changes nothing, in GitLab either', async () => {
    gitlab.requests.length = 0;
    const report = await run<DeployReport>(WorkflowType.deployStack, stackSpec());
    expect(report.unchanged).toBe(true);
    expect(gitlab.requests.filter((r) => r.startsWith('POST /api/v4/user') || r.includes('reset_authentication_token'))).toEqual([]);
  });

  it('a new runner container (task replaced) is registered again, under the same GitLab runner with a new token', async () => {
    const before = onlyRunner();
    const oldToken = before.token;
    const service = docker.getService(`${stack}_runner`);
    const spec = await service.inspect();
    await service.update({
      version: spec.Version.Index,
      ...spec.Spec,
      TaskTemplate: { ...spec.Spec.TaskTemplate, ForceUpdate: (spec.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 },
    });
    await eventually('a fresh runner container without registration', 60_000, async () =>
      registeredRunners(await runnerConfig().catch(() => 'x = 1')).length === 0 ? true : undefined,
    );
    const report = await run<DeployReport>(WorkflowType.deployStack, stackSpec());
    expect(report.changes.find((c) => c.kind === 'runner')).toEqual({ kind: 'runner', name: 'imaging-ci', change: 'update' });
    const after = onlyRunner();
    expect(after.id).toBe(before.id);
    expect(after.token).not.toBe(oldToken);
    expect(registeredRunners(await runnerConfig())).toEqual([{ name: `sciops:${stack}/imaging-ci`, id: before.id }]);
  });

  it('a token GitLab refuses fails the deploy before anything is made, naming the variable', async () => {
    const name = `${stack}b`;
    const failure = await failureOf(run(WorkflowType.deployStack, stackSpec(name, 'SCIOPS_GITLAB_TOKEN_BAD')));
    expect(failure.type).toBe('RunnerFailed');
    expect(failure.message).toContain('GitLab refused the token in SCIOPS_GITLAB_TOKEN_BAD (HTTP 401');
    expect(await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } })).toEqual([]);
  });

  it('a failed registration deletes the runner this run created in GitLab, and the service', async () => {
    const name = `${stack}f`;
    const spec = stackSpec(name);
    // No gitlab-runner in this image: register cannot run.
    spec.services[0] = { ...spec.services[0], image: 'local/busybox:1', command: ['sleep', '3600'] } as (typeof spec.services)[0];
    const failure = await failureOf(run(WorkflowType.deployStack, spec));
    expect(failure.type).toBe('RunnerFailed');
    expect(failure.message).toContain(`gitlab-runner register for sciops:${name}/imaging-ci exited with code`);
    await eventually('the saga to delete the GitLab runner and the service', 30_000, async () =>
      gitlab.runners.size === 1 && (await docker.listServices({ filters: { label: [`sciops.stack=${name}`] } })).length === 0
        ? true
        : undefined,
    );
  });

  it('teardown deletes the runner in GitLab and removes the service', async () => {
    const { id } = onlyRunner();
    const report = await run<TeardownReport>(WorkflowType.teardownStack, { stack });
    expect(report.removed).toEqual([`runner sciops:${stack}/imaging-ci (GitLab #${id})`, `service ${stack}_runner`]);
    expect(gitlab.runners.size).toBe(0);
    expect(gitlab.requests).toContain(`DELETE /api/v4/runners/${id}`);
    expect((await run<TeardownReport>(WorkflowType.teardownStack, { stack })).removed).toEqual([]);
  });
});
