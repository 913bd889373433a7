import { canonicalJson } from './fingerprint';
import type { ServiceRequest } from './stack-resources';

/**
 * Which fields of a service an update changes, in compose's words, comparing the request with the spec
 * the swarm holds. The swarm fills in defaults the request leaves out (an update config, the isolation),
 * so a field counts as unchanged when the swarm's value covers the request's; a field the request no longer
 * sets counts as removed only for the fields sciops sets. Network targets are compared by name (the
 * observer names the networks the swarm refers to by id). Values are never shown for the environment
 * (they may hold passwords), only names. Pure.
 */

const CONTAINER_FIELDS: Readonly<Record<string, string>> = {
  Image: 'image',
  Command: 'entrypoint',
  Args: 'command',
  Hostname: 'hostname',
  Hosts: 'extra_hosts',
  DNSConfig: 'dns',
  Healthcheck: 'healthcheck',
  Labels: 'labels',
  Dir: 'working_dir',
  User: 'user',
  Mounts: 'volumes',
  StopGracePeriod: 'stop_grace_period',
  StopSignal: 'stop_signal',
  TTY: 'tty',
  OpenStdin: 'stdin_open',
  Secrets: 'secrets',
  Configs: 'configs',
  ReadOnly: 'read_only',
  Init: 'init',
  Sysctls: 'sysctls',
  CapabilityAdd: 'cap_add',
  CapabilityDrop: 'cap_drop',
  Ulimits: 'ulimits',
};
const TASK_FIELDS: Readonly<Record<string, string>> = {
  LogDriver: 'logging',
  Resources: 'resources',
  RestartPolicy: 'restart_policy',
  Placement: 'placement',
  Networks: 'networks',
};
const SERVICE_FIELDS: Readonly<Record<string, string>> = {
  UpdateConfig: 'update_config',
  RollbackConfig: 'rollback_config',
  EndpointSpec: 'ports and endpoint_mode',
};

/** Fields the swarm fills in with its defaults when a spec leaves them out: leaving them out removes nothing. */
const FILLED_BY_SWARM = new Set(['Resources', 'RestartPolicy', 'Placement', 'Networks', 'UpdateConfig', 'RollbackConfig', 'EndpointSpec']);

type Json = Record<string, unknown>;
const object = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** Whether `have` holds everything `want` says (objects: every key of want; arrays: element by element). */
export function covers(have: unknown, want: unknown): boolean {
  // The swarm leaves out what is empty: no mounts is no list of mounts.
  if (have === undefined && isEmpty(want)) return true;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want as Json).every(([k, w]) => covers((have as Json)[k], w));
  }
  return have === want;
}

/** The spec's own labels: neither sciops' nor docker's stack labels (the image label follows the image). */
const ownLabels = (labels: unknown) =>
  Object.fromEntries(Object.entries(object(labels)).filter(([k]) => !k.startsWith('sciops.') && !k.startsWith('com.docker.stack.')));

function envDifferences(want: unknown, have: unknown): string[] {
  const parse = (list: unknown) =>
    new Map(
      (Array.isArray(list) ? (list as string[]) : []).map((e) => {
        const at = e.indexOf('=');
        return at < 0 ? [e, null] : [e.slice(0, at), e.slice(at + 1)];
      }),
    );
  const w = parse(want);
  const h = parse(have);
  const out: string[] = [];
  for (const [k, v] of w) {
    if (!h.has(k)) out.push(`env ${k} added`);
    else if (h.get(k) !== v) out.push(`env ${k} changed`);
  }
  for (const k of h.keys()) if (!w.has(k)) out.push(`env ${k} removed`);
  return out;
}

function fieldDifferences(want: Json, have: Json, names: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [key, name] of Object.entries(names)) {
    const w = key === 'Labels' ? ownLabels(want[key]) : want[key];
    const h = key === 'Labels' ? ownLabels(have[key]) : have[key];
    if (w === undefined) {
      if (h !== undefined && !FILLED_BY_SWARM.has(key) && canonicalJson(h) !== canonicalJson(emptyOf(h))) out.push(`${name} removed`);
    } else if (!covers(h, w)) {
      out.push(typeof w === 'string' || typeof w === 'number' ? `${name} ${String(h ?? '(none)')} → ${String(w)}` : `${name} changed`);
    }
  }
  return out;
}

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

/** The empty value of a field's type: a removed list that the swarm keeps as [] is no difference. */
function emptyOf(v: unknown): unknown {
  if (Array.isArray(v)) return [];
  if (v !== null && typeof v === 'object') return {};
  return typeof v === 'boolean' ? false : v;
}

export function serviceDifferences(desired: ServiceRequest, observed: unknown): string[] {
  const have = object(observed);
  const want = desired as unknown as Json;
  const wantTask = object(want.TaskTemplate);
  const haveTask = object(have.TaskTemplate);
  const wantContainer = object(wantTask.ContainerSpec);
  const haveContainer = { ...object(haveTask.ContainerSpec) };
  // The swarm pins an image to its digest when it resolves it: `image@sha256:…` is the same image.
  if (typeof haveContainer.Image === 'string' && typeof wantContainer.Image === 'string' && !wantContainer.Image.includes('@')) {
    haveContainer.Image = haveContainer.Image.replace(/@sha256:[0-9a-f]+$/, '');
  }
  const out = [
    ...fieldDifferences(wantContainer, haveContainer, CONTAINER_FIELDS),
    ...envDifferences(wantContainer.Env, haveContainer.Env),
    ...fieldDifferences(wantTask, haveTask, TASK_FIELDS),
    ...fieldDifferences(want, have, SERVICE_FIELDS),
  ];
  const wantMode = object(want.Mode);
  const haveMode = object(have.Mode);
  if ((wantMode.Global === undefined) !== (haveMode.Global === undefined)) {
    out.push(
      `mode ${haveMode.Global === undefined ? 'replicated' : 'global'} → ${wantMode.Global === undefined ? 'replicated' : 'global'}`,
    );
  } else if (wantMode.Replicated !== undefined) {
    const w = object(wantMode.Replicated).Replicas;
    const h = object(haveMode.Replicated).Replicas;
    if (w !== h) out.push(`replicas ${String(h)} → ${String(w)}`);
  }
  if (
    !covers(ownLabels(have.Labels), ownLabels(want.Labels)) ||
    Object.keys(ownLabels(have.Labels)).length !== Object.keys(ownLabels(want.Labels)).length
  )
    out.push('deploy.labels changed');
  return out.length > 0 ? out : ['sciops labels (deployed by another version of sciops)'];
}
