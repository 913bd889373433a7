import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { type Output, withOutput } from '../../output';
import { experimentStatus } from './status';

export interface ExperimentLogs {
  readonly id: string;
  readonly outputDir: string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The saved stdout.txt and stderr.txt of an ended experiment. They are on the worker that ran it: this works
 * where that directory is visible (the same machine, or a shared file system such as EFS).
 */
export async function experimentLogs(id: string): Promise<ExperimentLogs> {
  const status = await experimentStatus(id);
  const outputDir = status.result?.outputDir;
  if (outputDir === undefined) {
    throw new Error(
      status.workflowStatus === 'RUNNING'
        ? `experiment ${id} is still running; its stdout.txt and stderr.txt are saved when it ends (sciops experiment status ${id})`
        : `experiment ${id} has no saved output (${status.state ?? status.workflowStatus}: it never ran)`,
    );
  }
  const read = (name: string) => {
    const file = path.join(outputDir, name);
    if (!existsSync(file)) throw new Error(`${file} is not on this machine: read it on the worker that ran experiment ${id}`);
    return readFileSync(file, 'utf8');
  };
  return { id, outputDir, stdout: read('stdout.txt'), stderr: read('stderr.txt') };
}

export function registerLogs(parent: Command): void {
  parent
    .command('logs <id>')
    .description("print an ended experiment's saved stdout, then its stderr (to stderr)")
    .action((id: string, _options: unknown, command: Command) =>
      withOutput(
        () => experimentLogs(id),
        (logs: ExperimentLogs, out: Output) => {
          out.print(logs.stdout.replace(/\n$/, ''));
          if (logs.stderr !== '' && !command.optsWithGlobals().json) process.stderr.write(logs.stderr);
          return 0;
        },
      )(undefined, command),
    );
}
