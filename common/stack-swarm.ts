import type { SwarmSpec } from './stack';
import type { PlannedChange } from './stack-plan';

/** The swarm as the manager's engine sees it. */
export interface SwarmView {
  /** The manager engine's hostname. */
  readonly self: string;
  /** Whether that engine is in a swarm (as a manager). */
  readonly active: boolean;
  readonly dataPathPort?: number;
  /** Every node of the swarm, by hostname, with its labels (empty when not active). */
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly labels: Readonly<Record<string, string>> }>;
}

export type SwarmNodeSpec = SwarmSpec['nodes'][number];

export interface SwarmActions {
  /** `docker swarm init` on the manager. */
  readonly init: boolean;
  /** Nodes to join, each through its own worker. */
  readonly join: readonly SwarmNodeSpec[];
  /** Nodes whose labels lack or differ from the spec's (labels the spec does not name are kept). */
  readonly label: readonly SwarmNodeSpec[];
  readonly changes: readonly PlannedChange[];
  readonly problems: readonly string[];
  /** The nodes the stack may place volumes on once these actions are done. */
  readonly nodes: readonly string[];
}

/**
 * What the `swarm` section asks of the swarm as it is: init when the manager's engine is in none, join the
 * listed nodes that are not members, set the labels that differ. A swarm's data path port cannot change after
 * init, and without a swarm section an engine outside any swarm cannot be deployed to: both are problems,
 * named by field, before anything is touched. Pure.
 */
export function swarmActions(spec: SwarmSpec | undefined, swarm: SwarmView): SwarmActions {
  const problems: string[] = [];
  const changes: PlannedChange[] = [];
  const init = !swarm.active;
  if (spec === undefined) {
    if (init) {
      problems.push(
        `swarm: the manager's engine (${swarm.self}) is in no swarm; add swarm: { advertiseAddr } to the stack to init it, or run docker swarm init`,
      );
    }
    return { init: false, join: [], label: [], changes, problems, nodes: swarm.nodes.map((n) => n.name) };
  }
  if (!init && spec.dataPathPort !== undefined && swarm.dataPathPort !== spec.dataPathPort) {
    problems.push(
      `swarm.dataPathPort: the swarm uses ${swarm.dataPathPort ?? 4789}; it is fixed when a swarm is created (leave it out, or re-create the swarm)`,
    );
  }
  changes.push({ kind: 'swarm', name: swarm.self, change: init ? 'create' : 'unchanged' });
  const member = (name: string) => swarm.nodes.find((n) => n.name === name);
  const join = spec.nodes.filter((n) => n.name !== swarm.self && member(n.name) === undefined);
  const label = spec.nodes.filter((n) => Object.entries(n.labels).some(([k, v]) => member(n.name)?.labels[k] !== v));
  for (const n of spec.nodes) {
    const change = join.includes(n) ? 'create' : label.includes(n) ? 'update' : 'unchanged';
    changes.push({ kind: 'node', name: n.name, change });
  }
  const nodes = [...new Set([swarm.self, ...swarm.nodes.map((n) => n.name), ...spec.nodes.map((n) => n.name)])];
  return { init, join, label, changes, problems, nodes };
}
