import type { DraftDeploy, DraftHealthcheck, DraftUpdateConfig, NormalizeContext } from './draft';
import { report } from './draft';
import { type KeyPath, shown } from './issues';
import { boolAt, bytesAt, cpusAt, durationAt, intAt, numberAt, stringMap } from './normalize-values';

/**
 * `deploy` and `healthcheck` as docker's loader and swarm converter read them: numbers and booleans given as strings
 * converted, durations checked, and the values the converter or the swarm refuses reported (an unknown mode or
 * endpoint mode, a restart condition swarm does not know). Combinations the converter refuses (replicas with mode
 * global, a healthcheck both disabled and tested) are checked once the files are merged (`references.ts`).
 */

type Raw = Record<string, unknown>;

function oneOf<T extends string>(ctx: NormalizeContext, path: KeyPath, value: unknown, allowed: readonly T[], extra = ''): T | undefined {
  if (allowed.includes(value as T)) return value as T;
  const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed.join('');
  report(ctx, path, `expected ${list}, got ${shown(value)}${extra}`);
  return undefined;
}

function set<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function normalizeDeploy(ctx: NormalizeContext, path: KeyPath, raw: Raw | null): DraftDeploy {
  const d: DraftDeploy = {};
  if (raw === null) return d;
  if (raw.mode !== undefined) {
    const jobs = raw.mode === 'replicated-job' || raw.mode === 'global-job' ? ' (sciops does not run job modes)' : '';
    set(d, 'mode', oneOf(ctx, [...path, 'mode'], raw.mode, ['replicated', 'global'] as const, jobs));
    d.modeAt = ctx.source.where([...path, 'mode']);
  }
  if (raw.replicas !== undefined) {
    set(d, 'replicas', intAt(ctx, [...path, 'replicas'], raw.replicas));
    d.replicasAt = ctx.source.where([...path, 'replicas']);
  }
  if (raw.labels !== undefined) d.labels = stringMap(ctx, [...path, 'labels'], raw.labels);
  if (raw.update_config !== undefined) d.update_config = updateConfig(ctx, [...path, 'update_config'], raw.update_config as Raw);
  if (raw.rollback_config !== undefined) d.rollback_config = updateConfig(ctx, [...path, 'rollback_config'], raw.rollback_config as Raw);
  if (raw.resources !== undefined) {
    const r = raw.resources as Raw;
    const at = [...path, 'resources'];
    d.resources = {};
    if (r.limits !== undefined) {
      const l = r.limits as Raw;
      const limits: NonNullable<NonNullable<DraftDeploy['resources']>['limits']> = {};
      if (l.cpus !== undefined) set(limits, 'cpus', cpusAt(ctx, [...at, 'limits', 'cpus'], l.cpus));
      if (l.memory !== undefined) set(limits, 'memory', bytesAt(ctx, [...at, 'limits', 'memory'], l.memory));
      if (l.pids !== undefined) set(limits, 'pids', intAt(ctx, [...at, 'limits', 'pids'], l.pids, -1));
      d.resources.limits = limits;
    }
    if (r.reservations !== undefined) {
      const v = r.reservations as Raw;
      const reservations: NonNullable<NonNullable<DraftDeploy['resources']>['reservations']> = {};
      if (v.cpus !== undefined) set(reservations, 'cpus', cpusAt(ctx, [...at, 'reservations', 'cpus'], v.cpus));
      if (v.memory !== undefined) set(reservations, 'memory', bytesAt(ctx, [...at, 'reservations', 'memory'], v.memory));
      if (v.generic_resources !== undefined) {
        reservations.generic_resources = [];
        (v.generic_resources as Raw[]).forEach((g, i) => {
          const spec = g.discrete_resource_spec as { kind?: string; value?: number | string } | undefined;
          const gAt = [...at, 'reservations', 'generic_resources', i, 'discrete_resource_spec'];
          if (spec?.kind === undefined || spec.value === undefined) {
            report(ctx, gAt, 'required: discrete_resource_spec with kind and value (e.g. kind: gpu, value: 2)');
            return;
          }
          const value = intAt(ctx, [...gAt, 'value'], spec.value);
          if (value !== undefined) reservations.generic_resources?.push({ discrete_resource_spec: { kind: spec.kind, value } });
        });
      }
      d.resources.reservations = reservations;
    }
  }
  if (raw.restart_policy !== undefined) {
    const r = raw.restart_policy as Raw;
    const at = [...path, 'restart_policy'];
    const policy: NonNullable<DraftDeploy['restart_policy']> = {};
    if (r.condition !== undefined)
      set(policy, 'condition', oneOf(ctx, [...at, 'condition'], r.condition, ['none', 'on-failure', 'any'] as const));
    if (r.delay !== undefined) set(policy, 'delay', durationAt(ctx, [...at, 'delay'], r.delay));
    if (r.max_attempts !== undefined) set(policy, 'max_attempts', intAt(ctx, [...at, 'max_attempts'], r.max_attempts));
    if (r.window !== undefined) set(policy, 'window', durationAt(ctx, [...at, 'window'], r.window));
    d.restart_policy = policy;
  }
  if (raw.placement !== undefined) {
    const p = raw.placement as Raw;
    const placement: NonNullable<DraftDeploy['placement']> = {};
    if (p.constraints !== undefined) placement.constraints = [...(p.constraints as string[])];
    if (p.preferences !== undefined) {
      placement.preferences = [];
      (p.preferences as { spread?: string }[]).forEach((pref, i) => {
        if (pref.spread === undefined)
          report(ctx, [...path, 'placement', 'preferences', i, 'spread'], 'required: the node attribute to spread over');
        else placement.preferences?.push({ spread: pref.spread });
      });
    }
    if (p.max_replicas_per_node !== undefined) {
      set(placement, 'max_replicas_per_node', intAt(ctx, [...path, 'placement', 'max_replicas_per_node'], p.max_replicas_per_node));
    }
    d.placement = placement;
  }
  if (raw.endpoint_mode !== undefined) {
    const mode = typeof raw.endpoint_mode === 'string' ? raw.endpoint_mode.toLowerCase() : raw.endpoint_mode;
    set(d, 'endpoint_mode', oneOf(ctx, [...path, 'endpoint_mode'], mode, ['vip', 'dnsrr'] as const));
  }
  return d;
}

function updateConfig(ctx: NormalizeContext, path: KeyPath, raw: Raw): DraftUpdateConfig {
  const u: DraftUpdateConfig = {};
  if (raw.parallelism !== undefined) set(u, 'parallelism', intAt(ctx, [...path, 'parallelism'], raw.parallelism));
  if (raw.delay !== undefined) set(u, 'delay', durationAt(ctx, [...path, 'delay'], raw.delay));
  if (raw.failure_action !== undefined) {
    set(u, 'failure_action', oneOf(ctx, [...path, 'failure_action'], raw.failure_action, ['pause', 'continue', 'rollback'] as const));
  }
  if (raw.monitor !== undefined) set(u, 'monitor', durationAt(ctx, [...path, 'monitor'], raw.monitor));
  if (raw.max_failure_ratio !== undefined)
    set(u, 'max_failure_ratio', numberAt(ctx, [...path, 'max_failure_ratio'], raw.max_failure_ratio));
  if (raw.order !== undefined) set(u, 'order', oneOf(ctx, [...path, 'order'], raw.order, ['stop-first', 'start-first'] as const));
  return u;
}

export function normalizeHealthcheck(ctx: NormalizeContext, path: KeyPath, raw: Raw): DraftHealthcheck {
  const h: DraftHealthcheck = {};
  if (raw.test !== undefined) {
    h.test = typeof raw.test === 'string' ? ['CMD-SHELL', raw.test] : [...(raw.test as string[])];
    h.testAt = ctx.source.where([...path, 'test']);
  }
  for (const key of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    if (raw[key] !== undefined) set(h, key, durationAt(ctx, [...path, key], raw[key]));
  }
  if (raw.retries !== undefined) set(h, 'retries', intAt(ctx, [...path, 'retries'], raw.retries));
  if (raw.disable !== undefined) {
    set(h, 'disable', boolAt(ctx, [...path, 'disable'], raw.disable));
    h.disableAt = ctx.source.where([...path, 'disable']);
  }
  return h;
}
