import type { DraftAttachment, DraftService, NormalizeContext } from './draft';
import { remember, report } from './draft';
import { resolveEnvironment } from './environment';
import { type KeyPath, put, shown } from './issues';
import type { ComposeFileReference } from './model';
import { normalizeDeploy, normalizeHealthcheck } from './normalize-deploy';
import { servicePorts, serviceVolumes } from './normalize-mounts';
import { boolAt, durationAt, extraHosts, modeAt, optionMap, stringList, stringMap, ulimitsAt } from './normalize-values';
import { splitShellWords } from './shell-words';

/**
 * One service of one file in long syntax (see `model.ts`), as docker's loader makes it before merging: keys the
 * file does not set stay absent. Keys sciops does not carry are left to `docker-keys.ts`, which reports them.
 */
export function normalizeService(ctx: NormalizeContext, name: string, raw: Record<string, unknown>): DraftService {
  const path: KeyPath = ['services', name];
  const at = (key: string | number, ...rest: (string | number)[]): KeyPath => [...path, key, ...rest];
  const s: DraftService = { at: ctx.source.where(path), networkAt: {} };
  const str = (key: 'image' | 'stop_signal' | 'hostname' | 'user' | 'working_dir') => {
    if (typeof raw[key] === 'string') s[key] = raw[key] as string;
  };
  str('image');
  if (s.image !== undefined) s.imageAt = ctx.source.where(at('image'));
  str('stop_signal');
  str('hostname');
  str('user');
  str('working_dir');
  for (const key of ['command', 'entrypoint'] as const) {
    const value = raw[key];
    if (typeof value === 'string') {
      try {
        s[key] = splitShellWords(value);
      } catch (e) {
        report(ctx, at(key), `${(e as Error).message}: close the quote, or give ${key} as a list`);
      }
    } else if (Array.isArray(value)) s[key] = [...(value as string[])];
  }
  const environment = resolveEnvironment(ctx, path, raw.env_file, raw.environment);
  if (environment !== undefined) s.environment = environment;
  if (raw.labels !== undefined) s.labels = stringMap(ctx, at('labels'), raw.labels);
  if (raw.sysctls !== undefined) s.sysctls = stringMap(ctx, at('sysctls'), raw.sysctls);
  if (raw.volumes !== undefined) s.volumes = serviceVolumes(ctx, at('volumes'), raw.volumes);
  if (raw.ports !== undefined) s.ports = servicePorts(ctx, at('ports'), raw.ports);
  if (raw.secrets !== undefined) s.secrets = fileReferences(ctx, at('secrets'), raw.secrets);
  if (raw.configs !== undefined) s.configs = fileReferences(ctx, at('configs'), raw.configs);
  if (raw.networks !== undefined) s.networks = networks(ctx, at('networks'), raw.networks, s.networkAt);
  if (raw.deploy !== undefined) s.deploy = normalizeDeploy(ctx, at('deploy'), raw.deploy as Record<string, unknown> | null);
  if (raw.healthcheck !== undefined)
    s.healthcheck = normalizeHealthcheck(ctx, at('healthcheck'), raw.healthcheck as Record<string, unknown>);
  if (typeof raw.restart === 'string') {
    if (restartPolicy(raw.restart)) s.restart = raw.restart;
    else report(ctx, at('restart'), `expected no, always, on-failure[:N] or unless-stopped, got ${shown(raw.restart)}`);
  }
  if (raw.stop_grace_period !== undefined) {
    const d = durationAt(ctx, at('stop_grace_period'), raw.stop_grace_period);
    if (d !== undefined) s.stop_grace_period = d;
  }
  for (const key of ['init', 'read_only', 'tty', 'stdin_open'] as const) {
    if (raw[key] === undefined) continue;
    const b = boolAt(ctx, at(key), raw[key]);
    if (b !== undefined) s[key] = b;
  }
  if (raw.cap_add !== undefined) s.cap_add = [...(raw.cap_add as string[])];
  if (raw.cap_drop !== undefined) s.cap_drop = [...(raw.cap_drop as string[])];
  if (raw.ulimits !== undefined) s.ulimits = ulimitsAt(ctx, at('ulimits'), raw.ulimits);
  if (raw.extra_hosts !== undefined) s.extra_hosts = extraHosts(ctx, at('extra_hosts'), raw.extra_hosts);
  if (raw.dns !== undefined) s.dns = stringList(raw.dns);
  if (raw.dns_search !== undefined) s.dns_search = stringList(raw.dns_search);
  if (raw.logging !== undefined) {
    const l = raw.logging as { driver?: string; options?: unknown };
    s.logging = {
      ...(l.driver === undefined ? {} : { driver: l.driver }),
      ...(l.options === undefined ? {} : { options: optionMap(ctx, at('logging', 'options'), l.options) }),
    };
  }
  return s;
}

/** `restart` as docker's `opts.ParseRestartPolicy` and swarm converter accept it. */
function restartPolicy(value: string): boolean {
  return /^(no|always|unless-stopped|on-failure)(:(\+?\d+)?)?$/.test(value) || value === '';
}

type RawReference = { source?: string; target?: string; uid?: string; gid?: string; mode?: number | string };

function fileReferences(ctx: NormalizeContext, path: KeyPath, value: unknown): ComposeFileReference[] {
  const out: ComposeFileReference[] = [];
  (value as (string | RawReference)[]).forEach((item, i) => {
    const where = ctx.source.where([...path, i]);
    if (typeof item === 'string') {
      out.push(remember({ source: item }, where));
      return;
    }
    if (item.source === undefined || item.source === '') {
      report(ctx, [...path, i, 'source'], `required: the name of a top-level ${path[path.length - 1]} entry`);
      return;
    }
    const mode = item.mode === undefined ? undefined : modeAt(ctx, [...path, i, 'mode'], item.mode);
    const ref: ComposeFileReference = {
      source: item.source,
      ...(item.target === undefined ? {} : { target: item.target }),
      ...(item.uid === undefined ? {} : { uid: item.uid }),
      ...(item.gid === undefined ? {} : { gid: item.gid }),
      ...(mode === undefined ? {} : { mode }),
    };
    out.push(remember(ref, where));
  });
  return out;
}

type RawAttachment = { aliases?: string[]; driver_opts?: Record<string, unknown> } | null;

function networks(
  ctx: NormalizeContext,
  path: KeyPath,
  value: unknown,
  networkAt: Record<string, unknown>,
): Record<string, DraftAttachment | null> {
  const out: Record<string, DraftAttachment | null> = {};
  if (Array.isArray(value)) {
    (value as string[]).forEach((name, i) => {
      put(out, name, null);
      put(networkAt, name, ctx.source.where([...path, i]));
    });
    return out;
  }
  for (const [name, raw] of Object.entries(value as Record<string, RawAttachment>)) {
    put(networkAt, name, ctx.source.where([...path, name]));
    if (raw === null) {
      put(out, name, null);
      continue;
    }
    const attachment: DraftAttachment = {};
    if (raw.aliases !== undefined) attachment.aliases = [...raw.aliases];
    if (raw.driver_opts !== undefined) attachment.driver_opts = optionMap(ctx, [...path, name, 'driver_opts'], raw.driver_opts);
    put(out, name, attachment);
  }
  return out;
}
