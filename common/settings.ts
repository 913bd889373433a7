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
  SCIOPS_MIGRATION_FILE_ROOTS: {
    default: '',
    meaning:
      "directories (comma-separated) of the db worker under which a stack's `migrations[].file` may lie (symlinks resolved); empty: no migration files (`sql` and `exec` steps still run)",
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
  SCIOPS_PG_BIN_DIR: {
    default: '',
    meaning:
      "a directory (absolute) whose pg_dump, psql and pg_restore the db worker runs instead of PATH's, e.g. /usr/lib/postgresql/17/bin; pg_dump must be of the servers' major version or newer; empty: PATH's",
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
