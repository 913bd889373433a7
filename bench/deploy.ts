/**
 * bench/deploy: the omics example stack (7 volumes, an overlay network, 2 generated secrets, 3 services with
 * 4 tasks) deployed by sciops and by the plain shell script of docker CLI commands an operator would run,
 * in the same run; then a no-op redeploy. Goals: ratio <= 1.3, no-op redeploy <= 0.1 of the first deploy.
 * Then the compose path (deploy-compose.ts): the same compose file through `docker stack deploy -c` and sciops.
 * Run: npm run bench:deploy
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readSpecFile } from '../clients/spec-file';
import { Queue } from '../common/queues';
import { type DeployReport, type StackSpec, stackSpecSchema } from '../common/stack';
import { parseInput } from '../common/validate';
import { WorkflowType } from '../common/workflow-types';
import { composeScenario } from './deploy-compose';
import { benchEnvironment } from './support/environment';
import { deployTwice, seconds } from './support/stats';

const run = promisify(execFile);

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The runbook as the docker CLI commands an operator types, one stack at a time. Pure. */
export function plainScript(spec: StackSpec): string {
  const n = (name: string) => `${spec.name}_${name}`;
  const lines = ['set -e'];
  for (const v of spec.volumes) lines.push(`docker volume create ${n(v.name)} >/dev/null`);
  for (const net of spec.networks) lines.push(`docker network create --driver overlay --attachable ${n(net.name)} >/dev/null`);
  for (const s of spec.secrets)
    lines.push(`head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c 32 | docker secret create ${n(s.name)} - >/dev/null`);
  for (const s of spec.services) {
    const args = [`--name ${n(s.name)}`, '--detach=false', '--quiet', `--replicas ${s.replicas ?? 1}`];
    for (const sec of s.secrets) args.push(`--secret source=${n(sec.source)},target=${sec.target ?? sec.source}`);
    for (const v of s.volumes) args.push(`--mount type=volume,source=${n(v.source as string)},target=${v.target}`);
    for (const net of s.networks) args.push(`--network ${n(net.name)}`);
    for (const [k, v] of Object.entries(s.env)) args.push(`--env ${shellQuote(v === null ? k : `${k}=${v}`)}`);
    lines.push(`docker service create ${args.join(' ')} ${s.image} ${(s.command ?? []).map(shellQuote).join(' ')} >/dev/null`);
  }
  return lines.join('\n');
}

async function removeStack(stack: string): Promise<void> {
  const script = `
    docker service rm $(docker service ls -q --filter name=${stack}_) >/dev/null 2>&1 || true
    sleep 3
    docker network rm $(docker network ls -q --filter name=${stack}_) >/dev/null 2>&1 || true
    docker secret rm $(docker secret ls -q --filter name=${stack}_) >/dev/null 2>&1 || true
    for i in 1 2 3 4 5; do docker volume rm $(docker volume ls -q --filter name=${stack}_) >/dev/null 2>&1 && break; sleep 2; done; true`;
  await run('sh', ['-c', script]);
}

async function main(): Promise<void> {
  const example = readSpecFile(path.resolve(__dirname, '../../examples/stacks/omics-platform.yaml')) as Record<string, unknown>;
  const stamp = Date.now().toString(36);
  // No fixed subnet or published port: both stacks exist side by side for a moment.
  const spec = (name: string): StackSpec => {
    const parsed = parseInput(stackSpecSchema, { ...example, name }, 'stack');
    return {
      ...parsed,
      networks: parsed.networks.map((x) => ({ ...x, ipam: undefined })),
      services: parsed.services.map((x) => ({ ...x, ports: [] })),
    };
  };
  const plain = spec(`plain${stamp}`);
  const sciops = spec(`sciops${stamp}`);
  const bench = await benchEnvironment('deploy', 27234);
  try {
    bench.worker(['--queues', 'sciops,docker'], { SCIOPS_SECRETS_DIR: `/tmp/sciops-bench-secrets-${stamp}` });
    const deploy = () =>
      bench.client.workflow.execute(WorkflowType.deployStack, {
        taskQueue: Queue.workflows,
        workflowId: `deploy-${sciops.name}-${Date.now()}`,
        args: [sciops],
      }) as Promise<DeployReport>;

    const t0 = Date.now();
    await run('bash', ['-c', plainScript(plain)]);
    const plainMs = Date.now() - t0;

    const { firstMs: sciopsMs, noopMs } = await deployTwice(deploy);

    console.log(
      `bench/deploy: ${sciops.volumes.length} volumes, ${sciops.networks.length} network, ${sciops.secrets.length} secrets, ${sciops.services.length} services`,
    );
    console.log(`  docker CLI script          ${seconds(plainMs)}`);
    console.log(`  sciops deployStack         ${seconds(sciopsMs)}`);
    console.log(`  ratio sciops / script      ${(sciopsMs / plainMs).toFixed(2)}  (goal <= 1.3)`);
    console.log(`  no-op redeploy             ${seconds(noopMs)} = ${(noopMs / sciopsMs).toFixed(2)} of the first deploy (goal <= 0.1)`);
    await composeScenario(bench, stamp);
  } finally {
    await removeStack(plain.name);
    await bench.client.workflow
      .execute(WorkflowType.teardownStack, {
        taskQueue: Queue.workflows,
        workflowId: `teardown-${stamp}`,
        args: [{ stack: sciops.name, purge: true }],
      })
      .catch((err: unknown) => console.error('teardown failed:', err));
    await bench.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error('bench/deploy failed:', err);
    process.exit(1);
  });
}
