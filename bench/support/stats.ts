import { readFileSync } from 'node:fs';

/** The p-th percentile (0-100) of a list of numbers, nearest rank. Pure. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Times a deploy and then the same deploy again (which must change nothing): the first's and the no-op's
 * milliseconds. Throws when the first changed nothing or the second changed something.
 */
export async function deployTwice(deploy: () => Promise<{ unchanged: boolean }>): Promise<{ firstMs: number; noopMs: number }> {
  let t0 = Date.now();
  const first = await deploy();
  const firstMs = Date.now() - t0;
  t0 = Date.now();
  const again = await deploy();
  const noopMs = Date.now() - t0;
  if (first.unchanged || !again.unchanged) throw new Error('the first deploy should change everything and the second nothing');
  return { firstMs, noopMs };
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Resident memory of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line === undefined ? Number.NaN : Number(line.replace(/\D+/g, '')) / 1024;
}
