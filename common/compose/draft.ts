import type { Issues, KeyPath, Where } from './issues';
import type {
  ComposeFileObject,
  ComposeFileReference,
  ComposeNetwork,
  ComposePort,
  ComposeServiceVolume,
  ComposeUpdateConfig,
  ComposeVolume,
  Duration,
} from './model';
import type { YamlSource } from './yaml-source';

/**
 * One file's services as docker's loader holds them before merging: a key the file does not set is absent (not a
 * default), because merging several files depends on it (a later file overrides only what it sets).
 */
export interface DraftService {
  /** Where the service is defined in this file. */
  readonly at: Where;
  image?: string;
  imageAt?: Where;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  labels?: Record<string, string>;
  volumes?: ComposeServiceVolume[];
  secrets?: ComposeFileReference[];
  configs?: ComposeFileReference[];
  /** null: listed without options (`networks: [front]`, or `front:` with no value). */
  networks?: Record<string, DraftAttachment | null>;
  /** Where each network of `networks` is named. */
  networkAt: Record<string, Where>;
  ports?: ComposePort[];
  deploy?: DraftDeploy;
  restart?: string;
  healthcheck?: DraftHealthcheck;
  stop_grace_period?: Duration;
  stop_signal?: string;
  hostname?: string;
  user?: string;
  working_dir?: string;
  init?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  sysctls?: Record<string, string>;
  ulimits?: Record<string, { soft: number; hard: number }>;
  extra_hosts?: string[];
  dns?: string[];
  dns_search?: string[];
  logging?: { driver?: string; options?: Record<string, string> };
  read_only?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
}

export interface DraftAttachment {
  aliases?: string[];
  driver_opts?: Record<string, string>;
}

export interface DraftHealthcheck {
  test?: string[];
  /** Where `test` is written, for a merge that would join two tests. */
  testAt?: Where;
  interval?: Duration;
  timeout?: Duration;
  retries?: number;
  start_period?: Duration;
  start_interval?: Duration;
  disable?: boolean;
  /** Where `disable` is written, for a merge that also brings a test. */
  disableAt?: Where;
}

export type DraftUpdateConfig = { -readonly [K in keyof ComposeUpdateConfig]: ComposeUpdateConfig[K] };

export interface DraftDeploy {
  mode?: 'replicated' | 'global';
  /** Where `mode` and `replicas` are written: the converter refuses replicas with mode global, even from two files. */
  modeAt?: Where;
  replicas?: number;
  replicasAt?: Where;
  labels?: Record<string, string>;
  update_config?: DraftUpdateConfig;
  rollback_config?: DraftUpdateConfig;
  resources?: {
    limits?: { cpus?: number; memory?: number; pids?: number };
    reservations?: { cpus?: number; memory?: number; generic_resources?: { discrete_resource_spec: { kind: string; value: number } }[] };
  };
  restart_policy?: { condition?: 'none' | 'on-failure' | 'any'; delay?: Duration; max_attempts?: number; window?: Duration };
  placement?: { constraints?: string[]; preferences?: { spread: string }[]; max_replicas_per_node?: number };
  endpoint_mode?: 'vip' | 'dnsrr';
}

/** One compose file after normalisation, before merging. */
export interface DraftFile {
  readonly source: YamlSource;
  /** The `version` key as docker reads it (absent and `3` mean `3.13`), and where it is. */
  readonly version: { readonly value: string; readonly given: boolean; readonly at: Where };
  readonly services: Record<string, DraftService>;
  readonly volumes: Record<string, ComposeVolume>;
  readonly networks: Record<string, ComposeNetwork>;
  readonly secrets: Record<string, ComposeFileObject>;
  readonly configs: Record<string, ComposeFileObject>;
}

/** What normalising one file needs: the file, where to report, and the inputs of `loadCompose`. */
export interface NormalizeContext {
  readonly source: YamlSource;
  readonly issues: Issues;
  /** The first file's directory: relative paths resolve against it. */
  readonly workingDir: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly readFile: (absolutePath: string) => string;
  readonly homeDir?: string;
}

export function report(ctx: NormalizeContext, path: KeyPath, problem: string): void {
  ctx.issues.add(ctx.source.where(path), problem);
}

const origins = new WeakMap<object, Where>();

/** Remembers where a list entry (a volume, port, secret or config reference) is written. */
export function remember<T extends object>(entry: T, where: Where): T {
  origins.set(entry, where);
  return entry;
}

/** Where a list entry was written; its service's position when unknown. */
export function originOf(entry: object, fallback: Where): Where {
  return origins.get(entry) ?? fallback;
}
