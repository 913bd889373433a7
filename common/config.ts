import { ConfigError } from './errors';
import { type ExperimentLimits, readExperimentLimits } from './experiment-limits';
import { type ExperimentPolicy, readExperimentPolicy } from './experiment-policy';
import { QUEUE_KINDS, type QueueKind } from './queues';
import { readStackSourcePolicy, type StackSourcePolicy } from './stack-sources';

/**
 * Every setting sciops reads from the environment, with its default and meaning. The README's
 * configuration table lists exactly these (a unit test keeps the two in step). Temporal's own
 * connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, TEMPORAL_TLS_*, ...)
 * are read by `@temporalio/envconfig` and listed in the README too.
 */
export const SETTINGS = {
  DOCKER_HOST: {
    default: 'unix:///var/run/docker.sock',
    meaning: 'Docker engine the docker queues talk to (unix:// socket or tcp://host:port)',
  },
  DATABASE_URL: {
    default: '',
    meaning: 'PostgreSQL connection URL for the db queue (experiment state, dumps and restores)',
  },
  AWS_REGION: { default: 'us-east-1', meaning: 'AWS region of the aws queue' },
  AWS_ENDPOINT_URL: {
    default: '',
    meaning: 'AWS endpoint override, e.g. a local emulator (empty: the real AWS endpoints)',
  },
  SCIOPS_EXPERIMENTS_DIR: {
    default: '.sciops/experiments',
    meaning:
      "where a worker saves each experiment's stdout.txt, stderr.txt and exit_code.txt (`<dir>/<id>`) unless its spec names an outputDir",
  },
  SCIOPS_EXPERIMENT_BIND_ROOTS: {
    default: '',
    meaning: "host directories (comma-separated) under which experiments may bind-mount; empty: only the experiment's own output directory",
  },
  SCIOPS_EXPERIMENT_VOLUMES: {
    default: '',
    meaning: 'named volumes (comma-separated; `prefix*` allowed) that experiments may mount; empty: none',
  },
  SCIOPS_EXPERIMENT_CAPABILITIES: {
    default: '',
    meaning: "Linux capabilities an experiment's `capabilities` may add back (all are dropped); empty: none",
  },
  SCIOPS_SECRET_FILE_ROOTS: {
    default: '',
    meaning:
      "directories (comma-separated) of the manager's worker under which a stack's `secrets[].file` may lie (symlinks resolved); empty: no secret files",
  },
  SCIOPS_CONFIG_FILE_ROOTS: {
    default: '',
    meaning:
      "directories (comma-separated) of the manager's worker under which a stack's `configs[].file` may lie (symlinks resolved); empty: no config files",
  },
  SCIOPS_GITLAB_URLS: {
    default: '',
    meaning:
      "GitLab origins (comma-separated, e.g. https://gitlab.example.org) a stack's `gitlab.url` may name; https, or http on loopback; empty: none",
  },
  SCIOPS_GITLAB_TOKEN: {
    default: '',
    meaning:
      "the GitLab access token (create_runner scope) a stack's `gitlab.tokenEnv` names by default; other GitLabs: other SCIOPS_GITLAB_TOKEN* variables",
  },
  SCIOPS_GITLAB_CA_FILE: {
    default: '',
    meaning: "a PEM file of the CA that signs the GitLab's certificate (empty: the system's CAs)",
  },
  SCIOPS_SECRETS_DIR: {
    default: '.sciops/secrets',
    meaning: "where the manager's worker writes each generated secret once, mode 0600, for the operator to read",
  },
  SCIOPS_BACKUP_DIR: {
    default: '',
    meaning:
      'the directory (absolute) the db and docker workers both keep local backups in, the same directory at the same path on both; `sciops doctor` checks it; empty: not checked',
  },
  SCIOPS_RECOVERY_MINUTES: {
    default: '5',
    meaning: 'how often the recoverExperiments schedule runs (and it runs once when a workflow worker starts); 0: never',
  },
  SCIOPS_STATE_DIR: {
    default: '.sciops',
    meaning: 'local state of `sciops dev`: the dev server database and logs',
  },
  SCIOPS_DEV_PORT: {
    default: '7233',
    meaning: 'gRPC port of the `sciops dev` Temporal server; its Web UI listens on this port + 1000',
  },
  SCIOPS_CONCURRENCY_SCIOPS: { default: '40', meaning: 'workflow tasks run at once by one worker process' },
  SCIOPS_CACHED_WORKFLOWS: {
    default: '100',
    meaning: 'workflows one worker process keeps in memory between tasks (about 1 MB each); the rest are replayed when they wake',
  },
  SCIOPS_CONCURRENCY_DOCKER: {
    default: '8',
    meaning: 'activities run at once on the docker and docker@<node> queues',
  },
  SCIOPS_CONCURRENCY_DB: { default: '4', meaning: 'activities run at once on the db queue' },
  SCIOPS_CONCURRENCY_AWS: { default: '16', meaning: 'activities run at once on the aws queue' },
  SCIOPS_SHUTDOWN_GRACE_SECONDS: {
    default: '30',
    meaning: 'on SIGINT/SIGTERM, how long in-flight activities may run before they are cancelled',
  },
  SCIOPS_CODEC_KEYS: {
    default: '',
    meaning:
      'payload encryption keys, `id:base64` comma-separated, the first encrypts (empty: payloads are not encrypted); prefer the file below',
  },
  SCIOPS_CODEC_KEYS_FILE: {
    default: '',
    meaning:
      'a file (mode 0600) of payload encryption keys, one `id:base64` per line, the first encrypts; `sciops codec-key add FILE` writes one',
  },
  SCIOPS_CODEC_ACCEPT_PLAINTEXT: {
    default: 'false',
    meaning:
      '`true` while migrating to payload keys: payloads written without encryption are still read (otherwise refused when keys are set)',
  },
  SCIOPS_CODEC_TOKENS: {
    default: '',
    meaning: 'bearer tokens, comma-separated, the codec server accepts; prefer the file below',
  },
  SCIOPS_CODEC_TOKENS_FILE: {
    default: '',
    meaning:
      'a file (mode 0600) of bearer tokens, one per line, the codec server accepts (`Authorization: Bearer ...`); needed unless it is loopback-only',
  },
  SCIOPS_METRICS_ADDRESS: {
    default: '',
    meaning: 'where a worker serves Prometheus metrics, e.g. 0.0.0.0:9464 (path /metrics; empty: none)',
  },
  SCIOPS_LOG_FORMAT: {
    default: 'auto',
    meaning: 'worker log lines: `json` (one object per line), `text`, or `auto` (text on a terminal, else JSON)',
  },
  TEMPORAL_CLI_PATH: {
    default: '',
    meaning: 'the `temporal` binary used by `sciops dev` (empty: PATH, then the cache the setup script fills)',
  },
} as const satisfies Record<string, { default: string; meaning: string }>;

export type SettingName = keyof typeof SETTINGS;

type Env = Record<string, string | undefined>;

function raw(env: Env, name: SettingName): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? SETTINGS[name].default : value.trim();
}

/** An absolute directory, without a trailing slash; undefined when unset. */
function absoluteDir(env: Env, name: SettingName): string | undefined {
  const text = raw(env, name);
  if (text === '') return undefined;
  if (!text.startsWith('/'))
    throw new ConfigError(name, `"${text}" is not an absolute directory; give one such as /var/lib/sciops/backups`);
  return text.length > 1 ? text.replace(/\/+$/, '') : text;
}

function positiveInt(env: Env, name: SettingName, max: number): number {
  const text = raw(env, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(name, `"${text}" is not a whole number from 1 to ${max}; unset it to use ${SETTINGS[name].default}`);
  }
  return value;
}

function url(env: Env, name: SettingName, protocols: readonly string[], example: string): string | undefined {
  const text = raw(env, name);
  if (text === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(name, `not a URL; use the form ${example}`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `scheme "${parsed.protocol}" is not supported; use the form ${example}`);
  }
  return text;
}

function hostPort(env: Env, name: SettingName): string | undefined {
  const text = raw(env, name);
  if (text === '') return undefined;
  const port = Number(text.slice(text.lastIndexOf(':') + 1));
  if (!/^[^\s/]+:\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    throw new ConfigError(name, `"${text}" is not host:port; use the form 0.0.0.0:9464 (all interfaces) or 127.0.0.1:9464`);
  }
  return text;
}

function oneOf<T extends string>(env: Env, name: SettingName, values: readonly T[]): T {
  const text = raw(env, name);
  if (!(values as readonly string[]).includes(text)) throw new ConfigError(name, `"${text}" is not one of ${values.join(', ')}`);
  return text as T;
}

export interface DockerEndpoint {
  /** The DOCKER_HOST value, as an operator would recognise it in messages. */
  readonly text: string;
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
}

export function parseDockerHost(text: string): DockerEndpoint {
  const example = 'unix:///var/run/docker.sock or tcp://host:2375';
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError('DOCKER_HOST', `"${text}" is not a URL; use the form ${example}`);
  }
  if (parsed.protocol === 'unix:') {
    if (parsed.pathname === '') throw new ConfigError('DOCKER_HOST', `no socket path; use the form ${example}`);
    return { text, socketPath: parsed.pathname };
  }
  if (parsed.protocol === 'tcp:' || parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    const protocol = parsed.protocol === 'https:' ? 'https' : 'http';
    return { text, host: parsed.hostname, port: Number(parsed.port || 2375), protocol };
  }
  throw new ConfigError('DOCKER_HOST', `scheme "${parsed.protocol}" is not supported; use the form ${example}`);
}

export interface SciopsConfig {
  readonly docker: DockerEndpoint;
  readonly databaseUrl?: string;
  readonly aws: { readonly region: string; readonly endpoint?: string };
  readonly stateDir: string;
  readonly devPort: number;
  readonly concurrency: Readonly<Record<QueueKind, number>>;
  readonly shutdownGraceSeconds: number;
  readonly cachedWorkflows: number;
  readonly temporalCliPath?: string;
  readonly experimentsDir: string;
  readonly secretsDir: string;
  /** SCIOPS_BACKUP_DIR: where this worker expects local backups (a local backup spec's `destination.dir`); undefined: not set. */
  readonly backupDir?: string;
  /** 0: no recovery schedule, and no recovery run at worker start. */
  readonly recoveryMinutes: number;
  readonly experimentLimits: ExperimentLimits;
  /** What experiments may mount and which capabilities they may add: read by the docker worker. */
  readonly experimentPolicy: ExperimentPolicy;
  /** What a stack may make the manager's worker read (secret and config sources) or call (GitLab). */
  readonly stackSources: StackSourcePolicy;
  /** host:port of the worker's Prometheus endpoint. */
  readonly metricsAddress?: string;
  readonly logFormat: 'json' | 'text' | 'auto';
}

/** Reads and checks every setting; throws a ConfigError naming the first bad one. Pure: pass the env in. */
export function readConfig(env: Env): SciopsConfig {
  const concurrencySetting: Record<QueueKind, SettingName> = {
    sciops: 'SCIOPS_CONCURRENCY_SCIOPS',
    docker: 'SCIOPS_CONCURRENCY_DOCKER',
    db: 'SCIOPS_CONCURRENCY_DB',
    aws: 'SCIOPS_CONCURRENCY_AWS',
  };
  const concurrency = Object.fromEntries(QUEUE_KINDS.map((kind) => [kind, positiveInt(env, concurrencySetting[kind], 1000)])) as Record<
    QueueKind,
    number
  >;
  const devPort = positiveInt(env, 'SCIOPS_DEV_PORT', 64535);
  const region = raw(env, 'AWS_REGION');
  if (!/^[a-z]{2}(-[a-z0-9]+)+-\d+$/.test(region)) {
    throw new ConfigError('AWS_REGION', `"${region}" is not an AWS region name such as us-east-1`);
  }
  const docker = parseDockerHost(raw(env, 'DOCKER_HOST'));
  const secretsDir = raw(env, 'SCIOPS_SECRETS_DIR');
  // What no experiment may bind: the engine's socket, the generated secrets, the payload keys and codec tokens.
  const sciopsOwn = [secretsDir, raw(env, 'SCIOPS_CODEC_KEYS_FILE'), raw(env, 'SCIOPS_CODEC_TOKENS_FILE')];
  const protectedPaths = [docker.socketPath, ...sciopsOwn];
  return {
    docker,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://user:password@host:5432/database'),
    aws: { region, endpoint: url(env, 'AWS_ENDPOINT_URL', ['http:', 'https:'], 'http://127.0.0.1:4566') },
    stateDir: raw(env, 'SCIOPS_STATE_DIR'),
    devPort,
    concurrency,
    shutdownGraceSeconds: positiveInt(env, 'SCIOPS_SHUTDOWN_GRACE_SECONDS', 86400),
    cachedWorkflows: positiveInt(env, 'SCIOPS_CACHED_WORKFLOWS', 100_000),
    temporalCliPath: raw(env, 'TEMPORAL_CLI_PATH') || undefined,
    experimentsDir: raw(env, 'SCIOPS_EXPERIMENTS_DIR'),
    secretsDir,
    backupDir: absoluteDir(env, 'SCIOPS_BACKUP_DIR'),
    recoveryMinutes: raw(env, 'SCIOPS_RECOVERY_MINUTES') === '0' ? 0 : positiveInt(env, 'SCIOPS_RECOVERY_MINUTES', 1440),
    experimentLimits: readExperimentLimits(env),
    experimentPolicy: readExperimentPolicy(
      env,
      protectedPaths.filter((p): p is string => p !== undefined && p !== ''),
    ),
    stackSources: readStackSourcePolicy(
      env,
      [...sciopsOwn, dockerConfigDir(env)].filter((p) => p !== ''),
    ),
    metricsAddress: hostPort(env, 'SCIOPS_METRICS_ADDRESS'),
    logFormat: oneOf(env, 'SCIOPS_LOG_FORMAT', ['json', 'text', 'auto'] as const),
  };
}

/** Where the docker CLI keeps registry credentials (DOCKER_CONFIG, else ~/.docker): never a stack's file. */
function dockerConfigDir(env: Env): string {
  const dir = env.DOCKER_CONFIG?.trim();
  if (dir !== undefined && dir !== '') return dir;
  const home = env.HOME?.trim();
  return home === undefined || home === '' ? '' : `${home.replace(/\/$/, '')}/.docker`;
}

/** A URL with its password replaced, for messages and reports. */
export function redactUrl(text: string): string {
  try {
    const parsed = new URL(text);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
