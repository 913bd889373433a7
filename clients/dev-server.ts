import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError } from '../common/errors';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../common/search-attributes';

export interface DevServer {
  readonly process: ChildProcess;
  readonly address: string;
  readonly uiUrl: string;
  readonly logFile: string;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last lines of a log file, for an error message. */
export function logTail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function until(what: string, seconds: number, child: ChildProcess, logFile: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the Temporal dev server exited before ${what} was ready; its log (${logFile}) ends with:\n${logTail(logFile)}`);
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready after ${seconds}s; see ${logFile}`);
}

/**
 * Starts `temporal server start-dev` with its Web UI, persisting to `<dir>/temporal.db`, with sciops'
 * search attributes registered (and the UI pointed at a codec server, if given), and resolves once both the
 * frontend and the UI answer.
 */
export async function startDevServer(temporalCli: string, dir: string, port: number, codecEndpoint?: string): Promise<DevServer> {
  const uiPort = port + 1000;
  for (const [p, setting] of [
    [port, 'SCIOPS_DEV_PORT'],
    [uiPort, 'SCIOPS_DEV_PORT (UI = port + 1000)'],
  ] as const) {
    if (await portAnswers(p)) {
      throw new ConfigError(setting, `port ${p} is already in use (another \`sciops dev\`?): stop that process or choose another port`);
    }
  }
  const logFile = path.join(dir, 'temporal.log');
  const log = openSync(logFile, 'a');
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort)];
  args.push('--db-filename', path.join(dir, 'temporal.db'), '--namespace', 'default', '--log-level', 'warn');
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${cliTypeName(key)}`);
  if (codecEndpoint !== undefined) args.push('--ui-codec-endpoint', codecEndpoint);
  // Own process group: Ctrl-C reaches `sciops dev` only, which then stops workers before the server.
  const child = spawn(temporalCli, args, { stdio: ['ignore', log, log], detached: true });
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://127.0.0.1:${uiPort}`;
  try {
    await until('the Temporal frontend', 60, child, logFile, async () => {
      try {
        const connection = await Connection.connect({ address, connectTimeout: '1s' });
        await connection.close();
        return true;
      } catch {
        return false;
      }
    });
    await until('the Web UI', 60, child, logFile, async () => {
      try {
        return (await fetch(uiUrl)).ok;
      } catch {
        return false;
      }
    });
  } catch (err) {
    await stopProcess(child, 5);
    throw err;
  }
  return { process: child, address, uiUrl, logFile };
}

/** Sends SIGTERM, then SIGKILL after `graceSeconds`; resolves when the process has exited. */
export function stopProcess(child: ChildProcess, graceSeconds: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceSeconds * 1000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
