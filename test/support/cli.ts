import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const CLI = path.resolve(__dirname, '../../dist/clients/cli.js');
/** The worker entry itself, as a service manager would run it (the CLI's `worker` command spawns it). */
const WORKER = path.resolve(__dirname, '../../dist/workers/main.js');

function built(file = CLI): string {
  if (!existsSync(file)) throw new Error(`${file} is missing: build first with \`npm run build\` (npm test does it)`);
  return file;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `sciops` CLI to completion, as an operator would. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [built(), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sciops ${args.join(' ')} did not finish in ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `sciops` process (worker, dev) whose output can be waited on. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exit: Promise<number | null>;

  /** `sciops <args>`, or with `entry: 'worker'` the worker entry itself with those args. */
  constructor(args: readonly string[], env: NodeJS.ProcessEnv, entry: 'cli' | 'worker' = 'cli') {
    const file = built(entry === 'cli' ? CLI : WORKER);
    this.child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d) => (this.stdout += d));
    this.child.stderr?.on('data', (d) => (this.stderr += d));
    this.exit = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Resolves when stdout or stderr matches; rejects on timeout or if the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stdout) && !pattern.test(this.stderr)) {
      if (this.child.exitCode !== null)
        throw new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Sends the signal and resolves with the exit code, or rejects if the process does not exit in time. */
  async stop(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`still running ${timeoutMs} ms after ${signal}:\n${this.stderr}`));
      }, timeoutMs),
    );
    return Promise.race([this.exit, timeout]);
  }
}

/** A worker's stderr as the JSON lines it writes when not on a terminal; throws on a line that is not JSON. */
export function logEntries(stderr: string): Array<Record<string, unknown> & { level: string; msg: string }> {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}
