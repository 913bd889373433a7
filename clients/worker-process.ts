import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Starts the worker entry (workers/main) as a child process. The CLI never imports worker code: it runs
 * it, so a worker is the same process whether started by `sciops worker`, `sciops dev` or a service manager.
 * It gets its own process group: Ctrl-C reaches the CLI only, which passes the signal on in its own order.
 */
export function spawnWorker(args: readonly string[], stdio: StdioOptions, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const entry = path.resolve(__dirname, '../workers/main.js');
  return spawn(process.execPath, [entry, ...args], { stdio, env, detached: true });
}
