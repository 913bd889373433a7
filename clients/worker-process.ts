import { type ChildProcess, spawn } from 'node:child_process';

type StdioNull = 'ignore' | 'inherit';
type StdioTarget = 'inherit' | 'ignore' | number;

import path from 'node:path';

/**
 * Starts the worker entry (workers/main) as a child process. The CLI never imports worker code: it runs
 * it, so a worker is the same process whether started by `sciops worker`, `sciops dev` or a service manager.
 * It gets its own process group: Ctrl-C reaches the CLI only, which passes the signal on in its own order.
 * An IPC channel ties it to the CLI: if the CLI dies, even by SIGKILL, the worker sees the channel close
 * and shuts down gracefully instead of polling on as an orphan.
 */
export function spawnWorker(
  args: readonly string[],
  stdio: [StdioNull, StdioTarget, StdioTarget],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const entry = path.resolve(__dirname, '../workers/main.js');
  return spawn(process.execPath, [entry, ...args], { stdio: [...stdio, 'ipc'], env, detached: true });
}
