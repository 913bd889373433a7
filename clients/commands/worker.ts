import type { Command } from 'commander';
import { spawnWorker } from '../worker-process';

/** Runs the worker process in the foreground; signals are passed on, its exit code is ours. */
export function runWorker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const child = spawnWorker(args, ['inherit', 'inherit', 'inherit'], env);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1))));
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run Temporal workers: one per task queue (sciops, docker, db, aws, and docker@NODE with --node)')
    .option('--queues <list>', 'comma-separated queues to poll (default: all four; with --node alone: only docker@NODE)')
    .option('--node <name>', 'also poll docker@NAME: run this on that swarm node, next to its Docker engine')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops worker                          # every queue\n  sciops worker --queues docker,db       # only these\n  sciops worker --node worker-1          # on swarm node worker-1: its node-local queue',
    )
    .action(async (options: { queues?: string; node?: string }, command: Command) => {
      const args = [
        ...(options.queues !== undefined ? ['--queues', options.queues] : []),
        ...(options.node !== undefined ? ['--node', options.node] : []),
      ];
      // --json: log lines as JSON even on a terminal.
      const json = Boolean(command.optsWithGlobals().json);
      process.exitCode = await runWorker(args, json ? { ...process.env, SCIOPS_LOG_FORMAT: 'json' } : process.env);
    });
}
