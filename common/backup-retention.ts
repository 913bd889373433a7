import { type Retention, runTime } from './backup';

/** The ISO 8601 week of a UTC instant, e.g. `2026-W47` (weeks start on Monday; week 1 holds January 4th). Pure. */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Grandfather-father-son: which complete runs to keep. The newest `keepLast`; then, going back in time, the
 * newest run of each of the first `daily` days that have a run, of the first `weekly` ISO weeks, and of the first
 * `monthly` months (UTC). A run kept by any rule is kept. Pure: give it run ids, it names the rest to prune.
 */
export function retain(runs: readonly string[], retention: Retention): { keep: string[]; prune: string[] } {
  const newestFirst = [...runs].sort().reverse();
  const keep = new Set(newestFirst.slice(0, retention.keepLast));
  const periods: Array<[number, (d: Date) => string]> = [
    [retention.daily, (d) => d.toISOString().slice(0, 10)],
    [retention.weekly, isoWeek],
    [retention.monthly, (d) => d.toISOString().slice(0, 7)],
  ];
  for (const [count, period] of periods) {
    const seen = new Set<string>();
    for (const run of newestFirst) {
      if (seen.size >= count) break;
      const key = period(runTime(run));
      if (!seen.has(key)) {
        seen.add(key);
        keep.add(run);
      }
    }
  }
  return { keep: newestFirst.filter((r) => keep.has(r)), prune: newestFirst.filter((r) => !keep.has(r)) };
}
