/**
 * The compose path of bench/deploy: the Multiomix-shaped fixture (a real PostgreSQL with its config file
 * and a healthcheck, a web service, a global worker, a one-shot migration) deployed by `docker stack deploy
 * -c` plus the loop an operator types to wait until every service is n/n (or its one-shot task Complete),
 * then by sciops from the same file, then a no-op redeploy, in alternating rounds (the web service's 2 s healthcheck
 * tick makes one deploy vary by up to 2 s). Goals: median ratio <= 1.0, no-op <= 0.05 of the first.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadComposeStack } from '../clients/compose-files';
import { Queue } from '../common/queues';
import type { DeployReport } from '../common/stack';
import { WorkflowType } from '../common/workflow-types';
import type { BenchEnvironment } from './support/environment';
import { deployTwice, percentile, seconds } from './support/stats';

const run = promisify(execFile);

/** What an operator types after `docker stack deploy`: wait until each service is n/n, or its task Complete. */
export function waitLoop(stack: string): string {
  return `
    for i in $(seq 1 600); do
      pending=0
      for s in $(docker stack services ${stack} --format '{{.Name}}'); do
        r=$(docker service ls --filter name=$s --format '{{.Replicas}}' | head -1)
        running=\${r%%/*}; want=\${r#*/}; want=\${want%% *}
        [ "$running" = "$want" ] && continue
        docker service ps $s --format '{{.CurrentState}}' | head -1 | grep -q '^Complete' && continue
        pending=1
      done
      [ $pending = 0 ] && exit 0
      sleep 0.5
    done
    exit 1`;
}

async function removeDockerStack(stack: string): Promise<void> {
  await run('sh', [
    '-c',
    `docker stack rm ${stack} >/dev/null 2>&1; for i in $(seq 1 60); do [ -z "$(docker network ls -q --filter label=com.docker.stack.namespace=${stack})" ] && break; sleep 1; done
     for i in 1 2 3 4 5; do docker volume rm $(docker volume ls -q --filter label=com.docker.stack.namespace=${stack}) >/dev/null 2>&1 && break; sleep 2; done; true`,
  ]);
}

/** Rounds of each side, alternated, so that both meet the same moments of the machine; the medians are compared. */
const ROUNDS = Number(process.env.BENCH_DEPLOY_ROUNDS ?? 3);

export async function composeScenario(bench: BenchEnvironment, stamp: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-bench-compose-'));
  cpSync(path.resolve(__dirname, '../../test/fixtures/compose/omics-shaped'), dir, { recursive: true });
  const file = path.join(dir, 'docker-compose.yml');
  const plain = `cplain${stamp}`;
  const ours = `csciops${stamp}`;
  const spec = loadComposeStack(ours, { files: [file] }).spec;
  const deploy = () =>
    bench.client.workflow.execute(WorkflowType.deployStack, {
      taskQueue: Queue.workflows,
      workflowId: `deploy-${ours}-${Date.now()}`,
      args: [spec],
    }) as Promise<DeployReport>;
  const teardown = () =>
    bench.client.workflow.execute(WorkflowType.teardownStack, {
      taskQueue: Queue.workflows,
      workflowId: `teardown-${ours}-${Date.now()}`,
      args: [{ stack: ours, purge: true }],
    });
  const plainRuns: number[] = [];
  const ourRuns: number[] = [];
  const noopRuns: number[] = [];
  try {
    // One stack at a time: both publish the same port.
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = Date.now();
      await run('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', file, plain]);
      await run('sh', ['-c', waitLoop(plain)]);
      plainRuns.push(Date.now() - t0);
      await removeDockerStack(plain);
      const { firstMs, noopMs } = await deployTwice(deploy);
      ourRuns.push(firstMs);
      noopRuns.push(noopMs);
      await teardown();
    }
  } catch (err) {
    await removeDockerStack(plain);
    await teardown().catch((e: unknown) => console.error('teardown failed:', e));
    throw err;
  }
  // For reference: docker's own wait (Docker 26+), which wants each task stable for 5 s.
  // It never returns for a service meant to finish (docker/cli#5299): give it a minute.
  const t1 = Date.now();
  const waited = await run('docker', ['stack', 'deploy', '--detach=false', '--quiet', '--resolve-image', 'never', '-c', file, plain], {
    timeout: 60_000,
  }).then(
    () => seconds(Date.now() - t1),
    () => `still waiting after ${seconds(Date.now() - t1)} (docker/cli#5299: the one-shot service)`,
  );
  await removeDockerStack(plain);
  const each = (ms: readonly number[]) => ms.map((m) => (m / 1000).toFixed(2)).join(', ');
  const plainMs = percentile(plainRuns, 50);
  const sciopsMs = percentile(ourRuns, 50);
  const noopMs = percentile(noopRuns, 50);
  console.log(
    `bench/deploy (compose): ${spec.services.length} services from test/fixtures/compose/omics-shaped, ${ROUNDS} rounds, medians`,
  );
  console.log(`  docker stack deploy + wait loop ${seconds(plainMs)}  (${each(plainRuns)})`);
  console.log(`  docker stack deploy --detach=false ${waited} (for reference)`);
  console.log(`  sciops deploy -c                ${seconds(sciopsMs)}  (${each(ourRuns)})`);
  console.log(`  ratio sciops / docker           ${(sciopsMs / plainMs).toFixed(2)}  (goal <= 1.0)`);
  console.log(
    `  no-op redeploy                  ${seconds(noopMs)} = ${(noopMs / sciopsMs).toFixed(3)} of the first deploy (goal <= 0.05)`,
  );
}
