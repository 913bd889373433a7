import type Dockerode from 'dockerode';

/** One line of `docker events`. */
interface EngineEvent {
  readonly Actor: { readonly ID: string; readonly Attributes?: Record<string, string> };
}

/**
 * The objects of `type` the engine did `action` to since `sinceMs` (a Date.now()): for each name, the object
 * id of each event. What the engine saw happen, not what is left (a service made twice and removed once lists
 * as one). Volumes are named by their id.
 */
export async function engineActions(
  docker: Dockerode,
  sinceMs: number,
  type: 'container' | 'service' | 'network' | 'secret' | 'volume',
  action: string,
  label?: string,
): Promise<Map<string, string[]>> {
  const stream = (await docker.getEvents({
    // The engine takes fractional seconds; `until` in the past makes it answer at once and close.
    since: (sinceMs / 1000).toFixed(3) as unknown as number,
    until: (Date.now() / 1000).toFixed(3) as unknown as number,
    filters: { type: [type], event: [action], ...(label === undefined ? {} : { label: [label] }) },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const ids = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const { Actor } = JSON.parse(line) as EngineEvent;
    const name = type === 'volume' ? Actor.ID : (Actor.Attributes?.name ?? Actor.ID);
    ids.set(name, [...(ids.get(name) ?? []), Actor.ID]);
  }
  return ids;
}

/** One line per name of `expected` whose count (of events, or of distinct objects) is not `times`. Pure. */
export function notTimes(
  found: ReadonlyMap<string, readonly string[]>,
  expected: readonly string[],
  times: number,
  what: string,
  count: (ids: readonly string[]) => number = (ids) => ids.length,
): string[] {
  return expected.flatMap((name) => {
    const n = count(found.get(name) ?? []);
    return n === times ? [] : [`${name}: ${what} ${n} times`];
  });
}
