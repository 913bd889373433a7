import { accessSync, constants, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../common/errors';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `temporal` binary `sciops dev` runs: TEMPORAL_CLI_PATH, else `temporal` on PATH, else the newest one
 * scripts/temporal-cli.sh left in the cache. Throws a ConfigError saying how to get one.
 */
export function findTemporalCli(env: Record<string, string | undefined>, configured?: string): string {
  if (configured !== undefined) {
    if (!executable(configured)) throw new ConfigError('TEMPORAL_CLI_PATH', `${configured} is not an executable file`);
    return configured;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, 'temporal'))) return path.join(dir, 'temporal');
  }
  const cache = env.SCIOPS_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'sciops');
  let entries: string[] = [];
  try {
    entries = readdirSync(cache).filter((e) => e.startsWith('temporal-cli-v'));
  } catch {
    // no cache yet
  }
  const newest = entries
    .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
    .map((e) => path.join(cache, e, 'temporal'))
    .find(executable);
  if (newest !== undefined) return newest;
  throw new ConfigError(
    'TEMPORAL_CLI_PATH',
    'no `temporal` binary found: run `bash scripts/temporal-cli.sh` (or `npm run dev`, which does), or set TEMPORAL_CLI_PATH',
  );
}
