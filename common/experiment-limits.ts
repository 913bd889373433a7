import { ConfigError } from './errors';
import { DEFAULT_TIME_LIMIT_SECONDS, DEFAULT_TIME_LIMITS } from './experiment';

/** Per-type limits, read by the db worker: the soft time limit and how many may be IN_PROCESS at once. */
export interface ExperimentLimits {
  timeLimitSeconds(type: string): number;
  /** undefined: no cap for this type (the queues' concurrency still applies). */
  concurrency(type: string): number | undefined;
}

type Env = Record<string, string | undefined>;

const TIME_LIMIT_PREFIX = 'EXPERIMENT_TIME_LIMIT_';
const CONCURRENCY_PREFIX = 'EXPERIMENT_CONCURRENCY_';

function wholeNumber(name: string, text: string, max: number): number {
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(name, `"${text}" is not a whole number from 1 to ${max}`);
  }
  return value;
}

/**
 * Reads every EXPERIMENT_TIME_LIMIT_<TYPE> (seconds) and EXPERIMENT_CONCURRENCY_<TYPE> from the environment,
 * checking them all at once so that a typo stops the worker at start, not an experiment hours later.
 */
export function readExperimentLimits(env: Env): ExperimentLimits {
  const timeLimits = new Map<string, number>(Object.entries(DEFAULT_TIME_LIMITS));
  const caps = new Map<string, number>();
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || text.trim() === '') continue;
    if (name.startsWith(TIME_LIMIT_PREFIX)) {
      timeLimits.set(name.slice(TIME_LIMIT_PREFIX.length).toLowerCase(), wholeNumber(name, text, 30 * 86400));
    } else if (name.startsWith(CONCURRENCY_PREFIX)) {
      caps.set(name.slice(CONCURRENCY_PREFIX.length).toLowerCase(), wholeNumber(name, text, 100_000));
    }
  }
  return {
    timeLimitSeconds: (type) => timeLimits.get(type) ?? DEFAULT_TIME_LIMIT_SECONDS,
    concurrency: (type) => caps.get(type),
  };
}
