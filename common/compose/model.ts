/**
 * The compose model: what `loadCompose` makes of one or more compose files after YAML parsing,
 * interpolation, merging, validation and normalisation. Short syntax is already long syntax, relative
 * paths are absolute, `env_file` is read into `environment`, and every reference (a service's volume,
 * network, secret or config) names an entry of the top-level maps. It is what `docker stack deploy`'s
 * loader hands its converter (docker/cli `cli/compose/types`), keyed as in the file (snake_case).
 * Pure data: `composeToStack` turns it into a stack spec.
 */

/** A Go duration as written in the file (`10s`, `1m30s`, `500ms`). */
export type Duration = string;

export interface ComposeModel {
  /** Services in the order of the first file that defines them. */
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes: Readonly<Record<string, ComposeVolume>>;
  readonly networks: Readonly<Record<string, ComposeNetwork>>;
  readonly secrets: Readonly<Record<string, ComposeFileObject>>;
  readonly configs: Readonly<Record<string, ComposeFileObject>>;
}

export interface ComposeService {
  readonly image: string;
  /** compose `command` (the image's CMD, docker's `Args`); a string is split as a POSIX shell splits words. */
  readonly command?: readonly string[];
  /** compose `entrypoint` (docker's `Command`). */
  readonly entrypoint?: readonly string[];
  /** `env_file` entries first, then `environment`; `null`: a name without a value and none in the environment. */
  readonly environment: Readonly<Record<string, string | null>>;
  /** Container labels (compose `labels`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly volumes: readonly ComposeServiceVolume[];
  readonly secrets: readonly ComposeFileReference[];
  readonly configs: readonly ComposeFileReference[];
  /** Network name (a key of `networks`, or `default`) -> attachment; empty: the stack's `default` network. */
  readonly networks: Readonly<Record<string, ComposeServiceNetwork>>;
  readonly ports: readonly ComposePort[];
  readonly deploy: ComposeDeploy;
  /** compose `restart` (swarm ignores the key but docker falls back to it when deploy.restart_policy is absent). */
  readonly restart?: string;
  readonly healthcheck?: ComposeHealthcheck;
  readonly stop_grace_period?: Duration;
  readonly stop_signal?: string;
  readonly hostname?: string;
  readonly user?: string;
  readonly working_dir?: string;
  readonly init?: boolean;
  readonly cap_add: readonly string[];
  readonly cap_drop: readonly string[];
  readonly sysctls: Readonly<Record<string, string>>;
  readonly ulimits: Readonly<Record<string, { readonly soft: number; readonly hard: number }>>;
  /** `host:ip` entries, in file order (a map in the file becomes `host:ip` too). */
  readonly extra_hosts: readonly string[];
  readonly dns: readonly string[];
  readonly dns_search: readonly string[];
  readonly logging?: { readonly driver?: string; readonly options: Readonly<Record<string, string>> };
  readonly read_only: boolean;
  readonly tty: boolean;
  readonly stdin_open: boolean;
}

export interface ComposeServiceVolume {
  readonly type: 'volume' | 'bind' | 'tmpfs';
  /** volume: a key of `volumes` (absent: anonymous); bind: an absolute host path; tmpfs: absent. */
  readonly source?: string;
  readonly target: string;
  readonly read_only: boolean;
  readonly consistency?: string;
  readonly bind?: { readonly propagation?: string; readonly create_host_path?: boolean };
  readonly volume?: { readonly nocopy?: boolean; readonly subpath?: string };
  readonly tmpfs?: { readonly size?: number; readonly mode?: number };
}

export interface ComposeFileReference {
  /** A key of the top-level `secrets` / `configs`. */
  readonly source: string;
  readonly target?: string;
  readonly uid?: string;
  readonly gid?: string;
  readonly mode?: number;
}

export interface ComposeServiceNetwork {
  readonly aliases: readonly string[];
  readonly driver_opts?: Readonly<Record<string, string>>;
}

export interface ComposePort {
  readonly target: number;
  readonly published?: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly mode: 'ingress' | 'host';
}

export interface ComposeDeploy {
  readonly mode?: 'replicated' | 'global';
  readonly replicas?: number;
  /** Service labels (compose `deploy.labels`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly update_config?: ComposeUpdateConfig;
  readonly rollback_config?: ComposeUpdateConfig;
  readonly resources: {
    readonly limits?: { readonly cpus?: number; readonly memory?: number; readonly pids?: number };
    readonly reservations?: {
      readonly cpus?: number;
      readonly memory?: number;
      readonly generic_resources: ReadonlyArray<{ readonly discrete_resource_spec: { readonly kind: string; readonly value: number } }>;
    };
  };
  readonly restart_policy?: {
    readonly condition?: 'none' | 'on-failure' | 'any';
    readonly delay?: Duration;
    readonly max_attempts?: number;
    readonly window?: Duration;
  };
  readonly placement: {
    readonly constraints: readonly string[];
    readonly preferences: ReadonlyArray<{ readonly spread: string }>;
    readonly max_replicas_per_node?: number;
  };
  readonly endpoint_mode?: 'vip' | 'dnsrr';
}

export interface ComposeUpdateConfig {
  readonly parallelism?: number;
  readonly delay?: Duration;
  readonly failure_action?: 'pause' | 'continue' | 'rollback';
  readonly monitor?: Duration;
  readonly max_failure_ratio?: number;
  readonly order?: 'stop-first' | 'start-first';
}

export interface ComposeHealthcheck {
  /** `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`; a string in the file becomes `["CMD-SHELL", string]`. */
  readonly test?: readonly string[];
  readonly interval?: Duration;
  readonly timeout?: Duration;
  readonly retries?: number;
  readonly start_period?: Duration;
  readonly start_interval?: Duration;
  readonly disable: boolean;
}

export interface ComposeExternal {
  /** Looked up, never created, changed or removed. */
  readonly external: boolean;
  /** The object's name on the swarm when the file gives one (`name:`), else `<stack>_<key>`. */
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ComposeVolume extends ComposeExternal {
  readonly driver?: string;
  readonly driver_opts?: Readonly<Record<string, string>>;
}

export interface ComposeNetwork extends ComposeExternal {
  readonly driver?: string;
  readonly driver_opts?: Readonly<Record<string, string>>;
  readonly attachable: boolean;
  readonly internal: boolean;
  readonly ipam?: {
    readonly driver?: string;
    readonly config: ReadonlyArray<{ readonly subnet?: string; readonly gateway?: string; readonly ip_range?: string }>;
  };
}

export interface ComposeFileObject extends ComposeExternal {
  /** Absolute path of the file holding the value (secrets: read by the manager's worker). */
  readonly file?: string;
  /** A variable of the manager's worker holding the value (compose `environment`). */
  readonly environment?: string;
  /** The value written inline (configs' `content`). */
  readonly content?: string;
  readonly template_driver?: string;
}

/** A key the swarm does not use, reported the way `docker stack deploy` warns about it. Never dropped silently. */
export interface IgnoredKey {
  readonly service: string;
  readonly key: string;
  /** `unsupported` (docker: "Ignoring unsupported options") or `deprecated` ("Ignoring deprecated options"). */
  readonly why: 'unsupported' | 'deprecated';
  readonly file: string;
  readonly line: number;
}

export interface LoadedCompose {
  readonly model: ComposeModel;
  readonly ignored: readonly IgnoredKey[];
}
