import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { Client as PgClient } from 'pg';
import { parseDockerHost } from '../../common/config';
import { dockerClient } from '../../workers/create-workers';

/** The checkout's root, from here or from the compiled copy under dist/ (benchmarks run that one). */
const ROOT = [path.resolve(__dirname, '../..'), path.resolve(__dirname, '../../..')].find((dir) =>
  existsSync(path.join(dir, 'package.json')),
) as string;
export const TESTBED_ENV_FILE = path.join(ROOT, '.sciops', 'testbed.env');
/** The image scripts/workers-image.sh builds from the Dockerfile. */
export const WORKERS_IMAGE = 'local/sciops-workers:test';
const START = 'start the testbed with `bash scripts/testbed.sh` (npm test does it)';

/** The services every integration test talks to. */
export interface Testbed {
  readonly temporalCliPath: string;
  /** The time-skipping test server's launcher (scripts/temporal-test-server.sh). */
  readonly testServerPath: string;
  readonly dockerHost: string;
  readonly node2DockerHost: string;
  /** A third engine outside the swarm, for swarm init and join tests. */
  readonly node3DockerHost: string;
  readonly databaseUrl: string;
  readonly awsEndpoint: string;
  readonly awsRegion: string;
  /** A MongoDB-wire server (FerretDB). */
  readonly mongoUrl: string;
  /** The directory holding mongodump, mongorestore and bsondump 100.11.0 (scripts/mongo-tools.sh). */
  readonly mongoTools: string;
  /** Debian's chromium, which playwright-core drives headless for the Web UI test. */
  readonly chromium: string;
  /** Docker Compose v2, to validate docker-compose.yml. */
  readonly compose: string;
}

const VARS = {
  temporalCliPath: 'TEMPORAL_CLI_PATH',
  testServerPath: 'SCIOPS_TEST_SERVER_PATH',
  dockerHost: 'DOCKER_HOST',
  node2DockerHost: 'SCIOPS_TEST_NODE2_DOCKER_HOST',
  node3DockerHost: 'SCIOPS_TEST_NODE3_DOCKER_HOST',
  databaseUrl: 'DATABASE_URL',
  awsEndpoint: 'AWS_ENDPOINT_URL',
  awsRegion: 'AWS_REGION',
  mongoUrl: 'SCIOPS_TEST_MONGO_URL',
  mongoTools: 'SCIOPS_TEST_MONGO_TOOLS',
  chromium: 'SCIOPS_TEST_CHROMIUM',
  compose: 'SCIOPS_TEST_COMPOSE',
} as const satisfies Record<keyof Testbed, string>;

/**
 * Fills process.env from .sciops/testbed.env for the variables not already set (so `npx vitest` works after
 * one `bash scripts/testbed.sh`), then reads the testbed. Throws naming every missing variable.
 */
export function loadTestbed(): Testbed {
  if (existsSync(TESTBED_ENV_FILE)) {
    for (const line of readFileSync(TESTBED_ENV_FILE, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0 && process.env[line.slice(0, eq)] === undefined) process.env[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  const missing = Object.values(VARS).filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`the test services are not configured (${missing.join(', ')} unset): ${START}`);
  return Object.fromEntries(Object.entries(VARS).map(([key, name]) => [key, process.env[name] as string])) as unknown as Testbed;
}

async function probe(name: string, how: string, check: () => Promise<void>): Promise<string | undefined> {
  try {
    await check();
    return undefined;
  } catch (err) {
    return `${name} (${how}): ${(err as Error).message}`;
  }
}

/** A probe of a tool the testbed installed: the file must be there. */
function fileProbe(name: string, file: string): Promise<string | undefined> {
  return probe(name, file, async () => {
    if (!existsSync(file)) throw new Error('no such file');
  });
}

/**
 * Checks every service the integration tests need, all at once, and throws one error listing each one that
 * is missing and how to start it. Tests never skip for a missing service: they fail here.
 */
export async function checkTestbed(bed: Testbed): Promise<void> {
  const manager = dockerClient(parseDockerHost(bed.dockerHost));
  const problems = await Promise.all([
    fileProbe('Temporal CLI', bed.temporalCliPath),
    fileProbe('Temporal test server', bed.testServerPath),
    probe('Docker engine', bed.dockerHost, async () => {
      const info = await manager.info();
      if (info.Swarm?.ControlAvailable !== true) throw new Error('not a swarm manager');
    }),
    probe('second swarm node', bed.node2DockerHost, async () => {
      const [nodes, node2] = await Promise.all([manager.listNodes(), dockerClient(parseDockerHost(bed.node2DockerHost)).info()]);
      const member = nodes.find((n: { ID: string }) => n.ID === node2.Swarm?.NodeID);
      if (member?.Status?.State !== 'ready') throw new Error('not a Ready member of the manager’s swarm');
    }),
    probe('spare engine', bed.node3DockerHost, async () => {
      await dockerClient(parseDockerHost(bed.node3DockerHost)).info();
    }),
    probe('PostgreSQL', 'DATABASE_URL', async () => {
      const client = new PgClient({ connectionString: bed.databaseUrl, connectionTimeoutMillis: 5000 });
      await client.connect();
      await client.end();
    }),
    probe('AWS emulator', bed.awsEndpoint, async () => {
      const res = await fetch(`${bed.awsEndpoint}/moto-api/`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    }),
    fileProbe('headless browser', bed.chromium),
    probe('workers image', WORKERS_IMAGE, async () => {
      await manager.getImage(WORKERS_IMAGE).inspect();
    }),
    fileProbe('Docker Compose', bed.compose),
    fileProbe('mongodump', path.join(bed.mongoTools, 'mongodump')),
    fileProbe('mongorestore', path.join(bed.mongoTools, 'mongorestore')),
    probe('MongoDB-wire server', bed.mongoUrl, async () => {
      const client = new MongoClient(bed.mongoUrl, { serverSelectionTimeoutMS: 3000 });
      try {
        await client.db('admin').command({ ping: 1 });
      } finally {
        await client.close();
      }
    }),
  ]);
  const failed = problems.filter((p): p is string => p !== undefined);
  if (failed.length > 0) throw new Error(`test services missing:\n  - ${failed.join('\n  - ')}\nFix: ${START}`);
}
