import { ConfigError } from './errors';
import { type ExperimentLimits, readExperimentLimits } from './experiment-limits';
import { type ExperimentPolicy, readExperimentPolicy } from './experiment-policy';
import { QUEUE_KINDS, type QueueKind } from './queues';
import { SETTINGS, type SettingName } from './settings';
import { readStackSourcePolicy, type StackSourcePolicy } from './stack-sources';

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
