import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { parseDotEnv } from '../../common/compose/dot-env';
import { eventually } from './experiments';

/**
 * The oracle for compose conversion: `docker stack deploy` of a compose file is the reference, and what sciops
 * deploys from the same file must inspect the same once both are normalised (see `normalise`).
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** The label `docker stack deploy` puts on every object of a stack (sciops sets it too). */
export const NAMESPACE_LABEL = 'com.docker.stack.namespace';
/** What the stack's name becomes in normalised objects. */
export const STACK_PLACEHOLDER = '<stack>';
/** What an engine-allocated IPAM subnet and gateway become (see NormaliseOptions.allocatedIpam). */
export const ALLOCATED = '<allocated>';

const run = promisify(execFile);

/** The engine DOCKER_HOST names (the default socket without it), as the docker CLI picks it. */
function defaultDocker(): Dockerode {
  return new Dockerode();
}

/** A .env file's variables, read as sciops (and Docker Compose) read it. */
export function readEnvFile(file: string): Record<string, string> {
  return parseDotEnv(readFileSync(file, 'utf8'), file);
}

export interface StackDeployOptions {
  /** Variables to interpolate from (docker stack deploy reads no .env file itself); the process's own win, as in Compose. */
  readonly envFile?: string;
  /** More variables, over both the process's and the env file's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Where relative compose file paths are taken from. */
  readonly cwd?: string;
}

/**
 * `docker stack deploy --resolve-image never -c F1 -c F2 STACK` with the docker CLI on PATH (DOCKER_HOST from
 * the environment). Returns what it printed: the "Ignoring unsupported options" warnings are on stderr.
 * Throws with its stderr when it fails.
 */
export async function dockerStackDeploy(
  files: readonly string[],
  stack: string,
  opts: StackDeployOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const args = ['stack', 'deploy', '--resolve-image', 'never', ...files.flatMap((f) => ['-c', f]), stack];
  const env = { ...(opts.envFile ? readEnvFile(opts.envFile) : {}), ...process.env, ...opts.env };
  try {
    const { stdout, stderr } = await run('docker', args, { env, cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`docker ${args.join(' ')} failed: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

/**
 * `docker stack rm STACK`, then waits until none of its services, networks, secrets or configs is left (the
 * engine removes networks only after the tasks are gone). docker leaves volumes behind: with `volumesOn`, the
 * stack's volumes (by its label) are removed from those engines too, once no container holds them.
 */
export async function dockerStackRm(
  stack: string,
  opts: { docker?: Dockerode; volumesOn?: readonly Dockerode[]; timeoutMs?: number } = {},
): Promise<void> {
  const docker = opts.docker ?? defaultDocker();
  await run('docker', ['stack', 'rm', stack]).catch((err: Error & { stderr?: string }) => {
    throw new Error(`docker stack rm ${stack} failed: ${(err.stderr || err.message).trim()}`);
  });
  const filters = { label: [`${NAMESPACE_LABEL}=${stack}`] };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  await eventually(`stack ${stack} to be removed`, timeoutMs, async () => {
    const left = await Promise.all([
      docker.listServices({ filters }),
      docker.listNetworks({ filters }),
      docker.listSecrets({ filters }),
      docker.listConfigs({ filters }),
    ]);
    return left.every((list) => list.length === 0) ? true : undefined;
  });
  for (const engine of opts.volumesOn ?? []) {
    await eventually(`the volumes of stack ${stack} to be removed`, timeoutMs, async () => {
      const volumes = (await engine.listVolumes({ filters })).Volumes ?? [];
      // A volume still held by a task's container (being removed) answers 409: tried again on the next poll.
      await Promise.all(
        volumes.map((v) =>
          engine
            .getVolume(v.Name)
            .remove()
            .catch(() => undefined),
        ),
      );
      return volumes.length === 0 ? true : undefined;
    });
  }
}

/** What `inspectStack` collects: each as the Engine API returns it. */
export interface StackInspect {
  /** The Spec of each service (`docker service inspect` .Spec). */
  readonly services: JsonObject[];
  /** Network, secret and config inspects: with their IDs, which `normalise` maps service references through. */
  readonly networks: JsonObject[];
  readonly secrets: JsonObject[];
  readonly configs: JsonObject[];
  /** Volume inspects from the engines asked (a volume is made on the node where a task first mounts it). */
  readonly volumes: JsonObject[];
}

/** How a stack's objects are found: by the label docker stack deploy sets, or by the `<stack>_` name prefix. */
export type StackSelector = 'namespace-label' | 'name-prefix';

const asObject = (value: unknown): JsonObject | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
const asArray = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

async function ignoreNotFound<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * Collects every service of a stack (Spec only), and the networks, secrets, configs and volumes it uses: its
 * own (found by `by`) and the external ones its services reference (found by name or id). Volumes are looked
 * for on `volumeEngines` (default: the manager only), the first copy found of each kept.
 */
export async function inspectStack(
  stack: string,
  by: StackSelector,
  opts: { docker?: Dockerode; volumeEngines?: readonly Dockerode[] } = {},
): Promise<StackInspect> {
  const docker = opts.docker ?? defaultDocker();
  const volumeEngines = opts.volumeEngines ?? [docker];
  const prefix = `${stack}_`;
  const filters: Record<string, string[]> = by === 'namespace-label' ? { label: [`${NAMESPACE_LABEL}=${stack}`] } : { name: [prefix] };
  const own = <T>(list: T[], name: (item: T) => string | undefined) =>
    by === 'namespace-label' ? list : list.filter((item) => name(item)?.startsWith(prefix));

  const [serviceList, networkList, secretList, configList] = await Promise.all([
    docker.listServices({ filters }),
    docker.listNetworks({ filters }),
    docker.listSecrets({ filters }),
    docker.listConfigs({ filters }),
  ]);
  const services = own(serviceList, (s) => s.Spec?.Name).map((s) => s.Spec as unknown as JsonObject);

  // The list calls leave fields out (networks' Containers and Options among them): inspect each.
  const networks = new Map<string, JsonObject>();
  for (const n of own(networkList, (n) => n.Name)) {
    networks.set(n.Id, (await docker.getNetwork(n.Id).inspect()) as unknown as JsonObject);
  }
  const secrets = new Map<string, JsonObject>(own(secretList, (s) => s.Spec?.Name).map((s) => [s.ID, s as unknown as JsonObject]));
  const configs = new Map<string, JsonObject>(own(configList, (c) => c.Spec?.Name).map((c) => [c.ID, c as unknown as JsonObject]));
  const volumeNames = new Set<string>();

  for (const spec of services) {
    const task = asObject(spec.TaskTemplate);
    const container = asObject(task?.ContainerSpec);
    for (const ref of [...asArray(task?.Networks), ...asArray(spec.Networks)]) {
      const target = asObject(ref)?.Target;
      if (typeof target === 'string' && ![...networks.values()].some((n) => n.Id === target || n.Name === target)) {
        const n = await ignoreNotFound(docker.getNetwork(target).inspect());
        if (n) networks.set(n.Id, n as unknown as JsonObject);
      }
    }
    for (const ref of asArray(container?.Secrets)) {
      const { SecretID: id, SecretName: name } = asObject(ref) ?? {};
      if (typeof id === 'string' && !secrets.has(id)) {
        const s = await ignoreNotFound(docker.getSecret(typeof name === 'string' ? name : id).inspect());
        if (s) secrets.set(s.ID, s as unknown as JsonObject);
      }
    }
    for (const ref of asArray(container?.Configs)) {
      const { ConfigID: id, ConfigName: name } = asObject(ref) ?? {};
      if (typeof id === 'string' && !configs.has(id)) {
        const c = await ignoreNotFound(docker.getConfig(typeof name === 'string' ? name : id).inspect());
        if (c) configs.set(c.ID, c as unknown as JsonObject);
      }
    }
    for (const mount of asArray(container?.Mounts)) {
      const { Type: type, Source: source } = asObject(mount) ?? {};
      if (type === 'volume' && typeof source === 'string' && source !== '') volumeNames.add(source);
    }
  }

  const volumes = new Map<string, JsonObject>();
  for (const engine of volumeEngines) {
    const listed = (await engine.listVolumes(by === 'namespace-label' ? { filters } : {})).Volumes ?? [];
    for (const name of [...own(listed, (v) => v.Name).map((v) => v.Name), ...volumeNames]) {
      if (volumes.has(name)) continue;
      const v = await ignoreNotFound(engine.getVolume(name).inspect());
      if (v) volumes.set(name, v as unknown as JsonObject);
    }
  }

  return {
    services,
    networks: [...networks.values()],
    secrets: [...secrets.values()],
    configs: [...configs.values()],
    volumes: [...volumes.values()],
  };
}

/** A stack's objects after `normalise`, each kind keyed by name (services by their name inside the stack). */
export interface NormalisedStack {
  readonly services: Record<string, JsonObject>;
  readonly networks: Record<string, JsonObject>;
  readonly secrets: Record<string, JsonObject>;
  readonly configs: Record<string, JsonObject>;
  readonly volumes: Record<string, JsonObject>;
}

export interface NormaliseOptions {
  /**
   * Networks (by their name in the compose file, or their full name) whose compose definition requests no
   * subnet: their IPAM subnet and gateway are the engine's allocation, not spec, and become `<allocated>`.
   */
  readonly allocatedIpam?: readonly string[];
}

/** Fields of an inspect that identify one object or report its state: not spec. */
const NETWORK_STATE = ['Id', 'Created', 'Containers', 'Peers', 'Services', 'Status'];
const VOLUME_STATE = ['CreatedAt', 'Mountpoint', 'Status', 'UsageData'];
/** The VXLAN id the swarm allocates to each overlay network (an identity, like its id). */
const VXLAN_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Makes two deployments of the same stack comparable, and nothing more:
 * - the stack's name becomes `<stack>` wherever it stands as a name or a name's prefix (names, labels,
 *   aliases, mount sources, targets);
 * - labels whose key starts with `sciops.` are dropped (a Labels map left empty, like a null one, is removed);
 * - secret, config and network ids in service specs become the object's name;
 * - per-object identity and state are dropped: ids, versions, timestamps, network containers and peers, the
 *   swarm-allocated VXLAN id, volume mount points and status, and (for `allocatedIpam` networks) the
 *   allocated subnet and gateway; services are their Spec only, secrets and configs their Spec only;
 * - lists the engine keeps without meaning to their order are sorted: env, mounts, secrets, configs,
 *   networks and their aliases, published ports, placement constraints, capabilities, groups, ulimits.
 * Everything else is kept as the engine returned it, so that any other difference shows.
 */
export function normalise(objects: StackInspect, stack: string, opts: NormaliseOptions = {}): NormalisedStack {
  const nameById = new Map<string, string>();
  for (const n of objects.networks) if (typeof n.Id === 'string' && typeof n.Name === 'string') nameById.set(n.Id, n.Name);
  for (const o of [...objects.secrets, ...objects.configs]) {
    const name = asObject(o.Spec)?.Name;
    if (typeof o.ID === 'string' && typeof name === 'string') nameById.set(o.ID, name);
  }
  const byName = (id: Json | undefined) => (typeof id === 'string' ? (nameById.get(id) ?? id) : id);

  const stackName = new RegExp(`(?<![A-Za-z0-9_.-])${escapeRegExp(stack)}(?![A-Za-z0-9.-])`, 'g');
  const text = (value: string) => value.replace(stackName, STACK_PLACEHOLDER);
  const clean = (value: Json): Json => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(clean);
    if (value === null || typeof value !== 'object') return value;
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Labels' && (v === null || asObject(v))) {
        const kept = Object.entries(v ?? {}).filter(([k]) => !k.startsWith('sciops.'));
        if (kept.length > 0) out.Labels = clean(Object.fromEntries(kept));
        continue;
      }
      out[text(key)] = clean(v);
    }
    return out;
  };
  const omit = (o: JsonObject, keys: readonly string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
  const key = (name: string) => text(name);

  const services: Record<string, JsonObject> = {};
  for (const raw of objects.services) {
    // A whole `docker service inspect` object is taken as its Spec (ID, Version, Endpoint and the rest are state).
    const spec = structuredClone(typeof raw.ID === 'string' && asObject(raw.Spec) ? (raw.Spec as JsonObject) : raw);
    const task = asObject(spec.TaskTemplate);
    const container = asObject(task?.ContainerSpec);
    for (const list of [task?.Networks, spec.Networks]) {
      for (const ref of asArray(list)) {
        const r = asObject(ref);
        if (r) r.Target = byName(r.Target) ?? null;
      }
    }
    for (const ref of asArray(container?.Secrets)) {
      const r = asObject(ref);
      if (r && 'SecretID' in r) r.SecretID = byName(r.SecretID) ?? null;
    }
    for (const ref of asArray(container?.Configs)) {
      const r = asObject(ref);
      if (r && 'ConfigID' in r) r.ConfigID = byName(r.ConfigID) ?? null;
    }
    const credential = asObject(asObject(container?.Privileges)?.CredentialSpec);
    if (credential && typeof credential.Config === 'string') credential.Config = byName(credential.Config) ?? null;
    const normalised = sortUnordered(clean(spec) as JsonObject);
    const name = String(spec.Name ?? '');
    services[name.startsWith(`${stack}_`) ? name.slice(stack.length + 1) : key(name)] = normalised;
  }

  const allocated = new Set((opts.allocatedIpam ?? []).flatMap((n) => [n, `${stack}_${n}`]));
  const networks: Record<string, JsonObject> = {};
  for (const raw of objects.networks) {
    const n = omit(raw, NETWORK_STATE);
    const options = asObject(n.Options);
    if (options && VXLAN_OPTION in options) n.Options = omit(options, [VXLAN_OPTION]);
    const ipam = asObject(n.IPAM);
    if (ipam && allocated.has(String(raw.Name))) {
      ipam.Config = asArray(ipam.Config).map((c) => {
        const config = { ...asObject(c) };
        for (const field of ['Subnet', 'Gateway']) if (field in config) config[field] = ALLOCATED;
        return config;
      });
    }
    networks[key(String(raw.Name))] = clean(n) as JsonObject;
  }

  const specs = (list: readonly JsonObject[]) => {
    const out: Record<string, JsonObject> = {};
    for (const o of list) {
      const spec = asObject(o.Spec) ?? {};
      out[key(String(spec.Name))] = clean(spec) as JsonObject;
    }
    return out;
  };

  const volumes: Record<string, JsonObject> = {};
  for (const v of objects.volumes) volumes[key(String(v.Name))] = clean(omit(v, VOLUME_STATE)) as JsonObject;

  return sortKeys({
    services,
    networks,
    secrets: specs(objects.secrets),
    configs: specs(objects.configs),
    volumes,
  }) as unknown as NormalisedStack;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const field = (item: Json, ...path: string[]) => {
  let at: Json | undefined = item;
  for (const p of path) at = asObject(at)?.[p];
  return at === undefined || at === null ? '' : String(at);
};
/** The lists of a service spec whose order carries no meaning, each with what sorts its elements. */
const UNORDERED: readonly [owner: readonly string[], list: string, id: (item: Json) => string][] = [
  [['TaskTemplate', 'ContainerSpec'], 'Env', (e) => String(e)],
  [['TaskTemplate', 'ContainerSpec'], 'Mounts', (m) => field(m, 'Target')],
  [['TaskTemplate', 'ContainerSpec'], 'Secrets', (s) => field(s, 'File', 'Name')],
  [['TaskTemplate', 'ContainerSpec'], 'Configs', (c) => field(c, 'File', 'Name')],
  [['TaskTemplate', 'ContainerSpec'], 'CapabilityAdd', (c) => String(c)],
  [['TaskTemplate', 'ContainerSpec'], 'CapabilityDrop', (c) => String(c)],
  [['TaskTemplate', 'ContainerSpec'], 'Groups', (g) => String(g)],
  [['TaskTemplate', 'ContainerSpec'], 'Ulimits', (u) => field(u, 'Name')],
  [['TaskTemplate', 'Placement'], 'Constraints', (c) => String(c)],
  [['TaskTemplate'], 'Networks', (n) => field(n, 'Target')],
  [[], 'Networks', (n) => field(n, 'Target')],
  [['EndpointSpec'], 'Ports', (p) => `${field(p, 'Protocol')}\0${field(p, 'TargetPort').padStart(5, '0')}`],
];

/** Sorts a service spec's lists without meaningful order (the lists with meaning keep theirs). */
function sortUnordered(spec: JsonObject): JsonObject {
  for (const [path, list, id] of UNORDERED) {
    let owner: JsonObject | undefined = spec;
    for (const p of path) owner = asObject(owner?.[p]);
    const items = owner?.[list];
    if (!owner || !Array.isArray(items)) continue;
    // Ties (the same target twice) are broken by the whole element, so the order never depends on the input's.
    owner[list] = [...items].sort((a, b) => compareText(`${id(a)}\0${JSON.stringify(a)}`, `${id(b)}\0${JSON.stringify(b)}`));
    if (list === 'Networks') {
      for (const n of owner[list] as Json[]) {
        const aliases = asObject(n)?.Aliases;
        if (Array.isArray(aliases)) (n as JsonObject).Aliases = [...aliases].sort((a, b) => compareText(String(a), String(b)));
      }
    }
  }
  return spec;
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort(compareText)
      .map((k) => [k, sortKeys(value[k] as Json)]),
  );
}

const show = (value: Json | undefined) => (value === undefined ? 'undefined' : JSON.stringify(value));
const step = (path: string, k: string) => {
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? k : JSON.stringify(k);
  if (path === '') return part;
  return part.startsWith('"') ? `${path}[${part}]` : `${path}.${part}`;
};

/** What names an element of a list of objects: the mount or network target, the file name, the ulimit name, the port. */
function identity(item: Json): string | undefined {
  const o = asObject(item);
  if (!o) return undefined;
  if (typeof o.Target === 'string') return o.Target;
  const file = asObject(o.File)?.Name;
  if (typeof file === 'string') return file;
  if (typeof o.TargetPort === 'number') return `${o.PublishedPort ?? ''}:${o.TargetPort}/${o.Protocol ?? 'tcp'}`;
  if (typeof o.Name === 'string') return o.Name;
  return undefined;
}

function identities(list: Json[]): Map<string, Json> | undefined {
  const out = new Map<string, Json>();
  for (const item of list) {
    const id = identity(item);
    if (id === undefined || out.has(id)) return undefined;
    out.set(id, item);
  }
  return out;
}

function equal(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(sortKeys(a ?? null)) === JSON.stringify(sortKeys(b ?? null)) && (a === undefined) === (b === undefined);
}

function diff(path: string, a: Json | undefined, b: Json | undefined, out: string[]): void {
  if (equal(a, b)) return;
  const objA = asObject(a);
  const objB = asObject(b);
  if (objA && objB) {
    for (const k of [...new Set([...Object.keys(objA), ...Object.keys(objB)])].sort(compareText))
      diff(step(path, k), objA[k], objB[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].some((item) => asObject(item))) {
    const idsA = identities(a);
    const idsB = identities(b);
    if (idsA && idsB) {
      for (const id of [...new Set([...idsA.keys(), ...idsB.keys()])].sort(compareText)) {
        diff(`${path}[${JSON.stringify(id)}]`, idsA.get(id), idsB.get(id), out);
      }
      return;
    }
    if (a.length === b.length) {
      a.forEach((item, i) => {
        diff(`${path}[${i}]`, item, b[i], out);
      });
      return;
    }
  }
  out.push(`${path}: ${show(a)} vs ${show(b)}`);
}

/**
 * The field paths at which two normalised stacks (or any two JSON values) differ, each with both values:
 * `services.db.TaskTemplate.ContainerSpec.Args: ["postgres"] vs undefined`. Lists of primitives are compared
 * whole; lists of objects element by element, by their identity where each has one (`Mounts["/data"]`).
 * Empty when they are the same.
 */
export function specDifferences(a: unknown, b: unknown): string[] {
  const out: string[] = [];
  diff('', a as Json | undefined, b as Json | undefined, out);
  return out;
}
