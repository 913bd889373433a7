import { ConfigError } from './errors';
import { isWithin, normalPath } from './experiment-policy';

/**
 * What a stack spec may make the manager's worker send or read, decided by that worker's configuration (it is
 * root, holds the Docker socket, and its environment holds credentials; the spec comes from whoever can start
 * a workflow):
 * - the GitLab access token goes only to an origin listed in SCIOPS_GITLAB_URLS, https (http only for a
 *   listed loopback origin), and only from a variable named SCIOPS_GITLAB_TOKEN*;
 * - a secret's `env` is read only from a SCIOPS_SECRET_* variable, a config's only from a SCIOPS_CONFIG_*
 *   one: a variable's name is the only place where the operator can say it is meant for stacks, and a config
 *   is not secret (the swarm API returns its data to every client, services mount it world-readable), so a
 *   variable meant as a secret never becomes a config;
 * - a `file` is read only under SCIOPS_SECRET_FILE_ROOTS (secrets) or SCIOPS_CONFIG_FILE_ROOTS (configs),
 *   as written and with symlinks resolved, and never from sciops' own secrets, keys and tokens; likewise a
 *   migration's `file`, which the db worker reads, only under that worker's SCIOPS_MIGRATION_FILE_ROOTS.
 * Pure: the activities resolve the paths and pass the real ones in; the schema uses the static part.
 */

export const GITLAB_URLS_SETTING = 'SCIOPS_GITLAB_URLS';
export const GITLAB_CA_FILE_SETTING = 'SCIOPS_GITLAB_CA_FILE';
export const SECRET_FILE_ROOTS_SETTING = 'SCIOPS_SECRET_FILE_ROOTS';
export const CONFIG_FILE_ROOTS_SETTING = 'SCIOPS_CONFIG_FILE_ROOTS';
export const MIGRATION_FILE_ROOTS_SETTING = 'SCIOPS_MIGRATION_FILE_ROOTS';

/** The variables a stack's `gitlab.tokenEnv` may name: SCIOPS_GITLAB_TOKEN, SCIOPS_GITLAB_TOKEN_LAB, ... */
export const GITLAB_TOKEN_PREFIX = 'SCIOPS_GITLAB_TOKEN';
export type SourceKind = 'secret' | 'config';
/** What a stack may name a worker's file for: a secret's or config's value (manager), a migration's SQL (db worker). */
export type FileKind = SourceKind | 'migration';
export const ENV_PREFIX: Readonly<Record<SourceKind, string>> = { secret: 'SCIOPS_SECRET_', config: 'SCIOPS_CONFIG_' };
const FILE_ROOTS_SETTING: Readonly<Record<FileKind, string>> = {
  secret: SECRET_FILE_ROOTS_SETTING,
  config: CONFIG_FILE_ROOTS_SETTING,
  migration: MIGRATION_FILE_ROOTS_SETTING,
};
/** The worker that reads a kind's files. */
export const FILE_READER: Readonly<Record<FileKind, string>> = {
  secret: "the manager's worker",
  config: "the manager's worker",
  migration: 'the db worker',
};

export interface StackSourcePolicy {
  /** Origins (`https://host[:port]`) the GitLab activities may call, from SCIOPS_GITLAB_URLS. */
  readonly gitlabOrigins: readonly string[];
  /** A PEM file of the CA that signs the GitLab's certificate (SCIOPS_GITLAB_CA_FILE); absent: the system's CAs. */
  readonly gitlabCaFile?: string;
  /** Directories under which `file` sources may lie, normalised, by kind. */
  readonly fileRoots: Readonly<Record<FileKind, readonly string[]>>;
  /** Paths never read, whatever the roots say: the generated secrets and sealed boxes, the keys, the tokens. */
  readonly protectedPaths: readonly string[];
}

/** The default: no GitLab, no secret or config file. */
export const DEFAULT_STACK_SOURCE_POLICY: StackSourcePolicy = {
  gitlabOrigins: [],
  fileRoots: { secret: [], config: [], migration: [] },
  protectedPaths: [],
};

/** localhost, 127.0.0.0/8 or ::1, as `URL.hostname` spells them. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Why `text` cannot be a GitLab base URL (undefined: it can): https, or http on a loopback address; no credentials. */
export function gitlabUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not a URL: give the GitLab base URL, e.g. https://gitlab.example.org';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'an https:// URL, e.g. https://gitlab.example.org';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return `http would send the access token in clear: use https://${url.host}${url.pathname === '/' ? '' : url.pathname} (http only for a loopback address)`;
  }
  if (url.username !== '' || url.password !== '') return 'no credentials in the URL: the token comes from tokenEnv';
  if (url.search !== '' || url.hash !== '') return 'no query or fragment: the GitLab base URL, e.g. https://gitlab.example.org';
  return undefined;
}

/** Why `name` cannot be a `gitlab.tokenEnv` (undefined: it can). */
export function tokenEnvProblem(name: string): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && name.startsWith(GITLAB_TOKEN_PREFIX)) return undefined;
  return `${name} is not a variable the manager's worker lends to GitLab: name one that starts with ${GITLAB_TOKEN_PREFIX} (e.g. ${GITLAB_TOKEN_PREFIX} or ${GITLAB_TOKEN_PREFIX}_LAB) and set it there`;
}

/** Why a `kind`'s `env` cannot be `name` (undefined: it can): it must be a SCIOPS_SECRET_* (SCIOPS_CONFIG_*) variable. */
export function envSourceProblem(kind: SourceKind, name: string): string | undefined {
  const prefix = ENV_PREFIX[kind];
  const setting = Object.values(FILE_ROOTS_SETTING).includes(name);
  if (!setting && name.length > prefix.length && /^[A-Za-z0-9_]+$/.test(name) && name.startsWith(prefix)) return undefined;
  const suggestion = `${prefix}${name.replace(/^SCIOPS_(SECRET|CONFIG)_/, '').toUpperCase()}`;
  return `${name} is not a variable stacks may read: the manager's worker gives a ${kind} only variables named ${prefix}* (set ${suggestion} on it and name that)`;
}

/** Whether the GitLab activities may send the token in `tokenEnv` to `url`; undefined: they may. */
export function gitlabRefusal(gitlab: { readonly url: string; readonly tokenEnv: string }, policy: StackSourcePolicy): string | undefined {
  const urlProblem = gitlabUrlProblem(gitlab.url);
  if (urlProblem !== undefined) return `gitlab.url: ${urlProblem}`;
  const tokenProblem = tokenEnvProblem(gitlab.tokenEnv);
  if (tokenProblem !== undefined) return `gitlab.tokenEnv: ${tokenProblem}`;
  const origin = new URL(gitlab.url).origin;
  if (policy.gitlabOrigins.includes(origin)) return undefined;
  const listed = policy.gitlabOrigins.length === 0 ? 'none set' : policy.gitlabOrigins.join(', ');
  return `gitlab.url: ${origin} is not in ${GITLAB_URLS_SETTING} (${listed}) on the manager's worker: add it there if that is your GitLab, or correct the URL`;
}

/**
 * Why the worker may not read `file` for a `kind` (undefined: it may). `real` gives a path's real
 * path as the worker sees it (symlinks resolved); the file must lie under a root both as written and as resolved.
 */
export function fileSourceRefusal(
  kind: FileKind,
  field: string,
  file: string,
  policy: StackSourcePolicy,
  real: (path: string) => string = (p) => p,
): string | undefined {
  const setting = FILE_ROOTS_SETTING[kind];
  const reader = FILE_READER[kind];
  const path = normalPath(file);
  if (path === undefined) return `${field}: ${file} is not an absolute path without ".."`;
  const resolved = real(path) === path ? '' : ` (it resolves to ${real(path)})`;
  const overlaps = (a: string, b: string) => isWithin(a, b) || isWithin(b, a);
  const guarded = policy.protectedPaths.find((p) => overlaps(path, p) || overlaps(real(path), real(p)));
  if (guarded !== undefined)
    return `${field}: ${path}${resolved} is never read for a stack: it reaches ${guarded}, which sciops keeps to itself`;
  const roots = policy.fileRoots[kind];
  if (roots.length === 0) {
    return `${field}: ${reader} reads no ${kind} files: set ${setting} on it to the directories (comma-separated) that hold the stacks' ${kind} files`;
  }
  if (roots.some((root) => isWithin(path, root) && isWithin(real(path), real(root)))) return undefined;
  return `${field}: ${path}${resolved} is not under ${setting} (${roots.join(', ')}) on ${reader}: put the file there, or add its directory to ${setting}`;
}

/** The part of a stack spec the sources come from. */
export interface SourcesSpec {
  readonly secrets: ReadonlyArray<{ readonly name: string; readonly file?: string; readonly env?: string }>;
  readonly configs: ReadonlyArray<{ readonly name: string; readonly file?: string; readonly env?: string }>;
  readonly gitlab?: { readonly url: string; readonly tokenEnv: string };
}

/** What the worker refuses of a spec's sources: the reasons, and which objects (by name) and whether GitLab. */
export interface SourceCheck {
  /** Each naming the field (`secrets[0].file`) and the fix; empty: everything is allowed. */
  readonly problems: readonly string[];
  readonly refused: { readonly secrets: readonly string[]; readonly configs: readonly string[]; readonly gitlab: boolean };
}

/** Checks every source of the spec. `real` as for fileSourceRefusal. */
export function checkSources(spec: SourcesSpec, policy: StackSourcePolicy, real?: (path: string) => string): SourceCheck {
  const problems: string[] = [];
  const refused = { secrets: [] as string[], configs: [] as string[] };
  for (const kind of ['secret', 'config'] as const) {
    const objects = kind === 'secret' ? spec.secrets : spec.configs;
    objects.forEach((o, i) => {
      const at = `${kind}s[${i}]`;
      const file = o.file === undefined ? undefined : fileSourceRefusal(kind, `${at}.file`, o.file, policy, real);
      const envProblem = o.env === undefined ? undefined : envSourceProblem(kind, o.env);
      const env = envProblem === undefined ? undefined : `${at}.env: ${envProblem}`;
      for (const p of [file, env]) if (p !== undefined) problems.push(p);
      if (file !== undefined || env !== undefined) refused[`${kind}s`].push(o.name);
    });
  }
  const gitlab = spec.gitlab === undefined ? undefined : gitlabRefusal(spec.gitlab, policy);
  if (gitlab !== undefined) problems.push(gitlab);
  return { problems, refused: { ...refused, gitlab: gitlab !== undefined } };
}

/** The `file` paths whose real paths the check wants, with the roots and protected paths. */
export function sourcePathsToResolve(spec: SourcesSpec, policy: StackSourcePolicy): string[] {
  const files = [...spec.secrets, ...spec.configs].flatMap((o) => {
    const path = o.file === undefined ? undefined : normalPath(o.file);
    return path === undefined ? [] : [path];
  });
  return filePathsToResolve(files, policy);
}

/** The given `file` paths, the roots and the protected paths: what a check resolves the real paths of. */
export function filePathsToResolve(files: readonly string[], policy: StackSourcePolicy): string[] {
  return [...new Set([...files, ...Object.values(policy.fileRoots).flat(), ...policy.protectedPaths])];
}

function list(env: Record<string, string | undefined>, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function origin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(GITLAB_URLS_SETTING, `"${text}" is not a URL: list origins such as https://gitlab.example.org`);
  }
  const problem = gitlabUrlProblem(text);
  if (problem !== undefined) throw new ConfigError(GITLAB_URLS_SETTING, `${text}: ${problem}`);
  if (url.pathname !== '/') {
    throw new ConfigError(GITLAB_URLS_SETTING, `${text}: list the origin only (${url.origin}); a stack's gitlab.url may add the path`);
  }
  return url.origin;
}

function roots(env: Record<string, string | undefined>, setting: string): string[] {
  return list(env, setting).map((root) => {
    const normal = normalPath(root);
    if (normal === undefined) throw new ConfigError(setting, `"${root}" is not an absolute path without ".."`);
    if (normal === '/')
      throw new ConfigError(setting, '/ would let a stack read every file of the worker: name the directories that hold stack files');
    return normal;
  });
}

/** Reads the settings; a bad entry throws a ConfigError naming its setting, so a typo stops the worker at start. */
export function readStackSourcePolicy(env: Record<string, string | undefined>, protectedPaths: readonly string[] = []): StackSourcePolicy {
  const caFile = (env[GITLAB_CA_FILE_SETTING] ?? '').trim();
  return {
    gitlabOrigins: list(env, GITLAB_URLS_SETTING).map(origin),
    ...(caFile === '' ? {} : { gitlabCaFile: caFile }),
    fileRoots: {
      secret: roots(env, SECRET_FILE_ROOTS_SETTING),
      config: roots(env, CONFIG_FILE_ROOTS_SETTING),
      migration: roots(env, MIGRATION_FILE_ROOTS_SETTING),
    },
    protectedPaths,
  };
}
