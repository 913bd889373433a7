import { type NormalizeContext, report } from './draft';
import { type KeyPath, put } from './issues';
import type { ComposeFileObject, ComposeNetwork, ComposeVolume } from './model';
import { boolAt, optionMap, stringMap } from './normalize-values';
import { resolvePath } from './paths';

/**
 * The top-level `volumes`, `networks`, `secrets` and `configs` of one file, as docker's loader reads them: `external`
 * as a boolean (the deprecated `external: {name}` becomes `name`), an external object without a name is looked up by
 * its key, secret and config files absolute. What docker refuses (`external.name` with `name`, an external volume
 * with a driver) is reported, and so is what sciops cannot create (a secret without a value, a secret driver).
 */

type Raw = Record<string, unknown>;

/** `external` (true, "true", or the deprecated `{name}`) as a flag and the name it gives, if any. */
function external(
  ctx: NormalizeContext,
  path: KeyPath,
  raw: Raw,
  kind: string,
  key: string,
): { external: boolean; name?: string } | undefined {
  const value = raw.external;
  let isExternal = false;
  let externalName: string | undefined;
  if (value !== undefined && value !== null && typeof value === 'object') {
    isExternal = true;
    externalName = (value as { name?: string }).name;
  } else if (value !== undefined) {
    const b = boolAt(ctx, [...path, 'external'], value);
    if (b === undefined) return undefined;
    isExternal = b;
  }
  let name = typeof raw.name === 'string' ? raw.name : undefined;
  if (externalName !== undefined) {
    if (name !== undefined) {
      report(ctx, [...path, 'external', 'name'], `${kind}.external.name and ${kind}.name conflict: only use ${kind}.name`);
      return undefined;
    }
    name = externalName;
  }
  if (isExternal && name === undefined) name = key;
  return { external: isExternal, ...(name === undefined ? {} : { name }) };
}

/** Reports the keys an external object cannot have: it is looked up, never created. */
function refuseWithExternal(ctx: NormalizeContext, path: KeyPath, raw: Raw, kind: string, keys: readonly string[]): boolean {
  let ok = true;
  for (const key of keys) {
    if (raw[key] === undefined) continue;
    report(
      ctx,
      [...path, key],
      `conflicting parameters "external" and "${key}" for ${kind} ${JSON.stringify(path[1])}: an external ${kind} is looked up, never created; remove ${key} or external`,
    );
    ok = false;
  }
  return ok;
}

export function topVolumes(ctx: NormalizeContext, value: unknown): Record<string, ComposeVolume> {
  const out: Record<string, ComposeVolume> = {};
  for (const [key, entry] of Object.entries((value ?? {}) as Record<string, Raw | null>)) {
    const path = ['volumes', key];
    const raw = entry ?? {};
    const ext = external(ctx, path, raw, 'volume', key);
    if (ext === undefined) continue;
    if (ext.external && !refuseWithExternal(ctx, path, raw, 'volume', ['driver', 'driver_opts', 'labels'])) continue;
    put(out, key, {
      ...ext,
      labels: raw.labels === undefined ? {} : stringMap(ctx, [...path, 'labels'], raw.labels),
      ...(typeof raw.driver === 'string' ? { driver: raw.driver } : {}),
      ...(raw.driver_opts === undefined ? {} : { driver_opts: optionMap(ctx, [...path, 'driver_opts'], raw.driver_opts) }),
    });
  }
  return out;
}

export function topNetworks(ctx: NormalizeContext, value: unknown): Record<string, ComposeNetwork> {
  const out: Record<string, ComposeNetwork> = {};
  for (const [key, entry] of Object.entries((value ?? {}) as Record<string, Raw | null>)) {
    const path = ['networks', key];
    const raw = entry ?? {};
    const ext = external(ctx, path, raw, 'network', key);
    if (ext === undefined) continue;
    if (ext.external && !refuseWithExternal(ctx, path, raw, 'network', ['driver', 'driver_opts', 'ipam', 'labels'])) continue;
    const attachable = raw.attachable === undefined ? false : boolAt(ctx, [...path, 'attachable'], raw.attachable);
    const internal = raw.internal === undefined ? false : boolAt(ctx, [...path, 'internal'], raw.internal);
    if (attachable === undefined || internal === undefined) continue;
    const ipam = raw.ipam as { driver?: string; config?: { subnet?: string; gateway?: string; ip_range?: string }[] } | undefined;
    put(out, key, {
      ...ext,
      labels: raw.labels === undefined ? {} : stringMap(ctx, [...path, 'labels'], raw.labels),
      ...(typeof raw.driver === 'string' ? { driver: raw.driver } : {}),
      ...(raw.driver_opts === undefined ? {} : { driver_opts: optionMap(ctx, [...path, 'driver_opts'], raw.driver_opts) }),
      attachable,
      internal,
      ...(ipam === undefined
        ? {}
        : {
            ipam: {
              ...(ipam.driver === undefined ? {} : { driver: ipam.driver }),
              config: (ipam.config ?? []).map((c) => ({
                ...(c.subnet === undefined ? {} : { subnet: c.subnet }),
                ...(c.gateway === undefined ? {} : { gateway: c.gateway }),
                ...(c.ip_range === undefined ? {} : { ip_range: c.ip_range }),
              })),
            },
          }),
    });
  }
  return out;
}

/** Top-level `secrets` (kind `secret`) or `configs` (kind `config`, which may also hold `content`). */
export function topFileObjects(ctx: NormalizeContext, value: unknown, kind: 'secret' | 'config'): Record<string, ComposeFileObject> {
  const out: Record<string, ComposeFileObject> = {};
  const section = kind === 'secret' ? 'secrets' : 'configs';
  const sources = kind === 'secret' ? ['file', 'environment'] : ['file', 'environment', 'content'];
  for (const [key, raw] of Object.entries((value ?? {}) as Record<string, Raw>)) {
    const path = [section, key];
    let ok = true;
    for (const driverKey of ['driver', 'driver_opts']) {
      if (raw[driverKey] === undefined) continue;
      report(
        ctx,
        [...path, driverKey],
        `sciops creates ${section} from a file or an environment variable, not through a ${kind} driver plugin: remove ${driverKey}`,
      );
      ok = false;
    }
    const ext = external(ctx, path, raw, kind, key);
    if (ext === undefined || !ok) continue;
    const given = sources.filter((s) => raw[s] !== undefined);
    if (ext.external) {
      if (!refuseWithExternal(ctx, path, raw, kind, [...sources, 'labels', 'template_driver'])) continue;
    } else if (given.length === 0) {
      report(
        ctx,
        path,
        `a ${kind} needs its value: give ${sources.join(', ').replace(/, (\w+)$/, ' or $1')}, or external: true for one that exists`,
      );
      continue;
    } else if (given.length > 1) {
      report(ctx, [...path, given[1] as string], `give one of ${given.join(' and ')}, not both`);
      continue;
    }
    put(out, key, {
      ...ext,
      labels: raw.labels === undefined ? {} : stringMap(ctx, [...path, 'labels'], raw.labels),
      ...(typeof raw.file === 'string' ? { file: resolvePath(ctx.workingDir, raw.file) } : {}),
      ...(typeof raw.environment === 'string' ? { environment: raw.environment } : {}),
      ...(typeof raw.content === 'string' ? { content: raw.content } : {}),
      ...(typeof raw.template_driver === 'string' ? { template_driver: raw.template_driver } : {}),
    });
  }
  return out;
}
