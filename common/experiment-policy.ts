import { ConfigError } from './errors';

/**
 * What an experiment may reach on the host, decided by the docker worker's configuration (the worker is root
 * and holds the Docker socket; the spec comes from whoever can start a workflow or insert a row). Pure: the
 * activity resolves symlinks and passes the real paths in; the workflow bundle and the CLI use the static
 * part (`neverBound`) to refuse early what no setting can allow.
 */
export interface ExperimentPolicy {
  /** Host directories under which bind mounts are allowed (SCIOPS_EXPERIMENT_BIND_ROOTS), normalised. */
  readonly bindRoots: readonly string[];
  /** Named volumes that may be mounted (SCIOPS_EXPERIMENT_VOLUMES): exact names, or a prefix ending in `*`. */
  readonly volumes: readonly string[];
  /** Linux capabilities a spec may ask for (SCIOPS_EXPERIMENT_CAPABILITIES), without `CAP_`. */
  readonly capabilities: readonly string[];
  /** Paths no bind may reach, whatever the roots say: the engine's socket, sciops' secrets and keys. */
  readonly protectedPaths: readonly string[];
}

/** The default: nothing but the experiment's own output directory may be bound; no volume, no capability. */
export const DEFAULT_EXPERIMENT_POLICY: ExperimentPolicy = { bindRoots: [], volumes: [], capabilities: [], protectedPaths: [] };

export const BIND_ROOTS_SETTING = 'SCIOPS_EXPERIMENT_BIND_ROOTS';
export const VOLUMES_SETTING = 'SCIOPS_EXPERIMENT_VOLUMES';
export const CAPABILITIES_SETTING = 'SCIOPS_EXPERIMENT_CAPABILITIES';

/** The host's system directories and Docker's state: never bound, nor any directory that holds one of them. */
const SYSTEM_PATHS = ['/proc', '/sys', '/dev', '/etc', '/boot', '/run', '/var/run', '/var/lib/docker', '/root'];

export const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{1,254}$/;
export const CAPABILITY = /^[A-Z][A-Z0-9_]{1,31}$/;

/** A plain absolute path: `//` collapsed, `.` dropped, trailing `/` removed; undefined when relative or with `..`. */
export function normalPath(path: string): string | undefined {
  if (!path.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Whether `path` is `parent` or lies under it (both normalised). */
export function isWithin(path: string, parent: string): boolean {
  return path === parent || parent === '/' || path.startsWith(`${parent}/`);
}

function overlaps(a: string, b: string): boolean {
  return isWithin(a, b) || isWithin(b, a);
}

/** Why no setting can allow binding `path` (normalised), or undefined when a bind root could hold it. */
export function neverBound(path: string): string | undefined {
  if (path === '/') return "it is the host's root";
  const system = SYSTEM_PATHS.find((p) => overlaps(path, p));
  if (system !== undefined) return isWithin(path, system) ? `it is under ${system}` : `it holds ${system}`;
  if (/\.sock$/.test(path)) return 'it is a socket, such as the Docker socket';
  return undefined;
}

function list(env: Record<string, string | undefined>, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Reads the three settings; a bad entry throws a ConfigError naming its setting, so a typo stops the worker at start. */
export function readExperimentPolicy(env: Record<string, string | undefined>, protectedPaths: readonly string[] = []): ExperimentPolicy {
  const bindRoots = list(env, BIND_ROOTS_SETTING).map((root) => {
    const normal = normalPath(root);
    if (normal === undefined) throw new ConfigError(BIND_ROOTS_SETTING, `"${root}" is not an absolute path without ".."`);
    const never = neverBound(normal);
    if (never !== undefined) throw new ConfigError(BIND_ROOTS_SETTING, `${normal} cannot be a bind root: ${never}`);
    return normal;
  });
  const volumes = list(env, VOLUMES_SETTING).map((name) => {
    if (!VOLUME_NAME.test(name.replace(/\*$/, 'x'))) {
      throw new ConfigError(VOLUMES_SETTING, `"${name}" is not a volume name (or a prefix ending in *)`);
    }
    return name;
  });
  const capabilities = list(env, CAPABILITIES_SETTING).map((text) => {
    const name = text.toUpperCase().replace(/^CAP_/, '');
    if (!CAPABILITY.test(name) || name === 'ALL') {
      throw new ConfigError(CAPABILITIES_SETTING, `"${text}" is not a capability name such as NET_BIND_SERVICE (ALL is not allowed)`);
    }
    return name;
  });
  return { bindRoots, volumes, capabilities, protectedPaths };
}

/** The part of a spec the policy looks at. */
export interface PolicySpec {
  readonly id: string;
  readonly backend: string;
  readonly mounts: ReadonlyArray<{ readonly type: 'volume' | 'bind'; readonly source: string }>;
  readonly capabilities?: readonly string[];
  readonly outputDir?: string;
}

/** What the check runs against: the policy, the worker's experiments directory, and what each path resolves to. */
export interface PolicyContext {
  readonly policy: ExperimentPolicy;
  /** SCIOPS_EXPERIMENTS_DIR, absolute and normalised. */
  readonly experimentsDir: string;
  /** Real paths (symlinks resolved) of the paths checked, as the worker sees them; a path missing here is its own. */
  readonly realPaths?: ReadonlyMap<string, string>;
}

/** Where the experiment's output goes, under the experiments directory; or why its outputDir is refused. */
export function experimentOutputDir(spec: Pick<PolicySpec, 'id' | 'outputDir'>, ctx: PolicyContext): { dir: string } | { refusal: string } {
  const base = ctx.experimentsDir;
  const dir = normalPath(spec.outputDir ?? `${base}/${spec.id}`);
  const real = (p: string) => ctx.realPaths?.get(p) ?? p;
  if (dir !== undefined && dir !== base && isWithin(dir, base) && real(dir) !== real(base) && isWithin(real(dir), real(base))) {
    return { dir };
  }
  const what = spec.outputDir === undefined ? `the output directory ${dir}` : `outputDir: ${spec.outputDir}`;
  const resolved = dir !== undefined && real(dir) !== dir ? ` (it resolves to ${real(dir)})` : '';
  return {
    refusal: `${what}${resolved} is not a directory under the experiments directory ${base} (SCIOPS_EXPERIMENTS_DIR); name one below it, or leave outputDir out`,
  };
}

function shown(items: readonly string[]): string {
  return items.length === 0 ? 'none set' : items.join(', ');
}

/**
 * Every reason the policy refuses the spec, each naming the field and the setting that would allow it
 * (empty: allowed). Bind sources must lie under the experiment's own output directory or a bind root, both
 * as written and once symlinks are resolved, and must not reach a protected or system path.
 */
export function policyRefusals(spec: PolicySpec, ctx: PolicyContext): string[] {
  const refusals: string[] = [];
  const real = (p: string) => ctx.realPaths?.get(p) ?? p;
  const output = experimentOutputDir(spec, ctx);
  if ('refusal' in output) refusals.push(output.refusal);
  const own = 'dir' in output ? output.dir : undefined;
  const { policy } = ctx;
  spec.mounts.forEach((mount, i) => {
    const field = `mounts[${i}].source`;
    if (mount.type === 'volume') {
      const allowed = policy.volumes.some((v) => (v.endsWith('*') ? mount.source.startsWith(v.slice(0, -1)) : v === mount.source));
      if (!allowed) {
        refusals.push(`${field}: volume ${mount.source} is not in ${VOLUMES_SETTING} (${shown(policy.volumes)}) on the docker worker`);
      }
      return;
    }
    const path = normalPath(mount.source);
    if (path === undefined) {
      refusals.push(`${field}: ${mount.source} is not an absolute host path without ".."`);
      return;
    }
    const resolved = real(path) === path ? '' : ` (it resolves to ${real(path)})`;
    const never = neverBound(path) ?? neverBound(real(path));
    const guarded = policy.protectedPaths.find((p) => overlaps(path, p) || overlaps(real(path), real(p)));
    if (never !== undefined || guarded !== undefined) {
      const why = never ?? `it reaches ${guarded}, which sciops keeps to itself`;
      refusals.push(`${field}: a bind of ${path}${resolved} is never allowed (${why}), whatever ${BIND_ROOTS_SETTING} says`);
      return;
    }
    const under = (root: string) => isWithin(path, root) && isWithin(real(path), real(root));
    if ((own !== undefined && under(own)) || policy.bindRoots.some(under)) return;
    refusals.push(
      `${field}: a bind of ${path}${resolved} is not under the experiment's output directory${own === undefined ? '' : ` (${own})`} nor under ${BIND_ROOTS_SETTING} (${shown(policy.bindRoots)}) on the docker worker`,
    );
  });
  for (const cap of spec.capabilities ?? []) {
    if (!policy.capabilities.includes(cap)) {
      refusals.push(`capabilities: ${cap} is not in ${CAPABILITIES_SETTING} (${shown(policy.capabilities)}) on the docker worker`);
    }
  }
  return refusals;
}

/** Every path whose real path the check wants: bind sources, roots, protected paths, the output and experiments directories. */
export function pathsToResolve(spec: PolicySpec, ctx: Omit<PolicyContext, 'realPaths'>): string[] {
  const paths = new Set<string>([ctx.experimentsDir, ...ctx.policy.bindRoots, ...ctx.policy.protectedPaths]);
  const output = experimentOutputDir(spec, ctx);
  if ('dir' in output) paths.add(output.dir);
  if (spec.outputDir !== undefined) {
    const dir = normalPath(spec.outputDir);
    if (dir !== undefined) paths.add(dir);
  }
  for (const m of spec.mounts) {
    const p = m.type === 'bind' ? normalPath(m.source) : undefined;
    if (p !== undefined) paths.add(p);
  }
  return [...paths];
}
