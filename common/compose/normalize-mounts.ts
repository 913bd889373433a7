import { type NormalizeContext, remember, report } from './draft';
import { type KeyPath, shown } from './issues';
import type { ComposePort, ComposeServiceVolume } from './model';
import { boolAt, bytesAt, intAt, modeAt } from './normalize-values';
import { cleanPath, isAbsolutePath, resolvePath } from './paths';
import { parseShortPort } from './port-spec';
import { PROPAGATIONS, parseShortVolume } from './volume-spec';

/**
 * A service's `volumes` and `ports` in long syntax, as docker's loader and swarm converter make them: short syntax
 * parsed, bind sources absolute (`./x` and `../x` against the first file's directory, `~/x` against the home
 * directory), and the combinations the converter refuses (a bind without a source, bind options on a named volume,
 * a source on a tmpfs) reported.
 */

type RawVolume = {
  type: string;
  source?: string;
  target?: string;
  read_only?: boolean | string;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean | string };
  volume?: { nocopy?: boolean | string; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number | string };
};

export function serviceVolumes(ctx: NormalizeContext, path: KeyPath, value: unknown): ComposeServiceVolume[] {
  const out: ComposeServiceVolume[] = [];
  (value as (string | RawVolume)[]).forEach((item, i) => {
    const at = [...path, i];
    const volume = typeof item === 'string' ? shortVolume(ctx, at, item) : longVolume(ctx, at, item);
    if (volume) out.push(remember(volume, ctx.source.where(at)));
  });
  return out;
}

function shortVolume(ctx: NormalizeContext, at: KeyPath, spec: string): ComposeServiceVolume | undefined {
  const parsed = parseShortVolume(spec);
  if (typeof parsed === 'string') {
    report(ctx, at, parsed);
    return undefined;
  }
  if (parsed.type === 'bind' && parsed.nocopy) {
    report(ctx, at, `nocopy applies to named volumes, not to the bind mount ${JSON.stringify(spec)}: remove it`);
    return undefined;
  }
  if (parsed.type === 'volume' && parsed.propagation !== undefined) {
    report(ctx, at, `${parsed.propagation} is a bind mount option; ${JSON.stringify(spec)} mounts a named volume: remove it`);
    return undefined;
  }
  const source = parsed.type === 'bind' ? bindSource(ctx, at, parsed.source as string) : parsed.source;
  if (parsed.type === 'bind' && source === undefined) return undefined;
  return {
    type: parsed.type,
    ...(source === undefined ? {} : { source }),
    target: parsed.target,
    read_only: parsed.readOnly,
    ...(parsed.propagation === undefined ? {} : { bind: { propagation: parsed.propagation } }),
    ...(parsed.nocopy === undefined ? {} : { volume: { nocopy: parsed.nocopy } }),
  };
}

function longVolume(ctx: NormalizeContext, at: KeyPath, raw: RawVolume): ComposeServiceVolume | undefined {
  const type = raw.type;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    report(ctx, [...at, 'type'], `sciops mounts bind, volume and tmpfs volumes, not ${type}: use one of those`);
    return undefined;
  }
  let ok = true;
  const refuse = (key: string, problem: string) => {
    report(ctx, [...at, key], problem);
    ok = false;
  };
  if (raw.target === undefined || raw.target === '') refuse('target', 'required: the path inside the container');
  for (const option of ['bind', 'volume', 'tmpfs'] as const) {
    if (raw[option] !== undefined && option !== type) refuse(option, `${option} options do not apply to a ${type} mount: remove them`);
  }
  let source: string | undefined = raw.source === '' ? undefined : raw.source;
  if (type === 'bind') {
    if (source === undefined) refuse('source', 'required: the host path to bind');
    else source = bindSource(ctx, [...at, 'source'], source);
    if (source === undefined) ok = false;
  }
  if (type === 'tmpfs' && source !== undefined) refuse('source', 'a tmpfs mount has no source: remove it');
  const readOnly = raw.read_only === undefined ? false : boolAt(ctx, [...at, 'read_only'], raw.read_only);
  let bind: ComposeServiceVolume['bind'];
  if (type === 'bind' && raw.bind !== undefined) {
    const { propagation, create_host_path } = raw.bind;
    if (propagation !== undefined && !PROPAGATIONS.includes(propagation)) {
      refuse('bind', `propagation ${shown(propagation)} is none of ${PROPAGATIONS.join(', ')}`);
    }
    const create = create_host_path === undefined ? undefined : boolAt(ctx, [...at, 'bind', 'create_host_path'], create_host_path);
    bind = { ...(propagation === undefined ? {} : { propagation }), ...(create === undefined ? {} : { create_host_path: create }) };
  }
  let volume: ComposeServiceVolume['volume'];
  if (type === 'volume' && raw.volume !== undefined) {
    const { nocopy, subpath } = raw.volume;
    const noCopy = nocopy === undefined ? undefined : boolAt(ctx, [...at, 'volume', 'nocopy'], nocopy);
    volume = { ...(noCopy === undefined ? {} : { nocopy: noCopy }), ...(subpath === undefined ? {} : { subpath }) };
  }
  let tmpfs: ComposeServiceVolume['tmpfs'];
  if (type === 'tmpfs' && raw.tmpfs !== undefined) {
    const size = raw.tmpfs.size === undefined ? undefined : bytesAt(ctx, [...at, 'tmpfs', 'size'], raw.tmpfs.size);
    const mode = raw.tmpfs.mode === undefined ? undefined : modeAt(ctx, [...at, 'tmpfs', 'mode'], raw.tmpfs.mode);
    tmpfs = { ...(size === undefined ? {} : { size }), ...(mode === undefined ? {} : { mode }) };
  }
  if (!ok || readOnly === undefined) return undefined;
  return {
    type,
    ...(source === undefined ? {} : { source }),
    target: raw.target as string,
    read_only: readOnly,
    ...(raw.consistency === undefined ? {} : { consistency: raw.consistency }),
    ...(bind === undefined ? {} : { bind }),
    ...(volume === undefined ? {} : { volume }),
    ...(tmpfs === undefined ? {} : { tmpfs }),
  };
}

/** A bind source made absolute: `~` and `~/x` from the home directory, a relative path against the first file's directory. */
function bindSource(ctx: NormalizeContext, at: KeyPath, source: string): string | undefined {
  if (source === '~' || source.startsWith('~/')) {
    const home = ctx.homeDir ?? ctx.environment.HOME;
    if (home === undefined || home === '') {
      report(ctx, at, `cannot expand "~" in ${JSON.stringify(source)}: no home directory is known (set HOME); or write the path out`);
      return undefined;
    }
    return cleanPath(`${home}/${source.slice(1)}`);
  }
  if (source.startsWith('~')) {
    report(ctx, at, `"~user" paths are not expanded: write ${JSON.stringify(source)} as an absolute path`);
    return undefined;
  }
  return isAbsolutePath(source) ? source : resolvePath(ctx.workingDir, source);
}

type RawPort = { name?: string; mode?: string; host_ip?: string; target?: number | string; published?: number | string; protocol?: string };

export function servicePorts(ctx: NormalizeContext, path: KeyPath, value: unknown): ComposePort[] {
  const out: ComposePort[] = [];
  (value as (number | string | RawPort)[]).forEach((item, i) => {
    const at = [...path, i];
    const where = ctx.source.where(at);
    if (typeof item === 'number' || typeof item === 'string') {
      if (typeof item === 'number' && !Number.isInteger(item)) {
        report(ctx, at, `expected a whole port number, got ${item}`);
        return;
      }
      const parsed = parseShortPort(String(item));
      if (typeof parsed === 'string') report(ctx, at, parsed);
      else for (const port of parsed) out.push(remember(port, where));
      return;
    }
    const port = longPort(ctx, at, item);
    if (port) out.push(remember(port, where));
  });
  return out;
}

function longPort(ctx: NormalizeContext, at: KeyPath, raw: RawPort): ComposePort | undefined {
  const target = raw.target === undefined ? undefined : intAt(ctx, [...at, 'target'], raw.target);
  if (raw.target === undefined) report(ctx, [...at, 'target'], 'required: the port inside the container');
  const published = raw.published === undefined || raw.published === '' ? undefined : intAt(ctx, [...at, 'published'], raw.published);
  const protocol = raw.protocol ?? 'tcp';
  const mode = raw.mode ?? 'ingress';
  let ok = target !== undefined && (raw.published === undefined || raw.published === '' || published !== undefined);
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
    report(ctx, [...at, 'protocol'], `expected tcp, udp or sctp, got ${shown(protocol)}`);
    ok = false;
  }
  if (mode !== 'ingress' && mode !== 'host') {
    report(ctx, [...at, 'mode'], `expected ingress or host, got ${shown(mode)}`);
    ok = false;
  }
  if (raw.host_ip !== undefined && !/^(0\.0\.0\.0|[0:]*::[0:]*)$/.test(raw.host_ip)) {
    report(
      ctx,
      [...at, 'host_ip'],
      `a swarm service cannot bind host address ${raw.host_ip} (docker stack deploy ignores it): remove host_ip`,
    );
    ok = false;
  }
  if (!ok) return undefined;
  return {
    target: target as number,
    ...(published === undefined ? {} : { published }),
    protocol: protocol as ComposePort['protocol'],
    mode: mode as ComposePort['mode'],
  };
}
