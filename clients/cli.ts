#!/usr/bin/env node
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Command, CommanderError } from 'commander';
import { ConfigError, DetachedError, InputError, UnreachableError } from '../common/errors';
import { ExitCode } from '../common/exit-codes';
/**
 * `sciops`: a thin CLI over the sciops workflows. Every command is one file under commands/;
 * errors become one line and a documented exit code (see common/exit-codes.ts).
 */
import { Failure, rootCause } from '../common/failures';
import { registerBackup } from './commands/backup';
import { registerCodec } from './commands/codec';
import { registerCompletion } from './commands/completion';
import { registerDeploy } from './commands/deploy';
import { registerDev } from './commands/dev';
import { registerDoctor } from './commands/doctor';
import { registerExperiment } from './commands/experiment';
import { registerRestore } from './commands/restore';
import { registerSchema } from './commands/schema';
import { registerStatus } from './commands/status';
import { registerTeardown } from './commands/teardown';
import { registerWorker } from './commands/worker';

export function buildProgram(): Command {
  const program = new Command('sciops')
    .description('Durable Temporal workflows that deploy, run and back up containerised scientific platforms.')
    .option('--json', 'print the result as JSON (no tables, no progress)')
    .showHelpAfterError()
    .exitOverride();
  registerDev(program);
  registerWorker(program);
  registerDoctor(program);
  registerStatus(program);
  registerExperiment(program);
  registerDeploy(program);
  registerTeardown(program);
  registerBackup(program);
  registerRestore(program);
  registerCodec(program);
  registerSchema(program);
  registerCompletion(program);
  program.addHelpText(
    'after',
    `
Examples:
  sciops dev                 start a local Temporal server + Web UI + workers, and run the doctor
  sciops doctor              check docker, db and aws through the workers
  sciops worker --node n2    on swarm node n2: run its node-local worker
  sciops experiment submit examples/experiments/correlation.json --wait
  sciops deploy examples/stacks/omics-platform.yaml --plan

Connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, TEMPORAL_TLS_* (Temporal's own settings).
Exit codes: 0 ok, 1 failed, 2 bad input or configuration, 3 not found, 130 interrupted.`,
  );
  return program;
}

/** The one place where errors become a line on stderr and an exit code. */
export function exitCodeFor(err: unknown): { code: number; message?: string } {
  if (err instanceof CommanderError) {
    return { code: err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput };
  }
  if (err instanceof ConfigError || err instanceof InputError) return { code: ExitCode.badInput, message: err.message };
  if (err instanceof UnreachableError) return { code: ExitCode.failed, message: err.message };
  if (err instanceof DetachedError) return { code: ExitCode.interrupted, message: err.message };
  if (err instanceof WorkflowNotFoundError) return { code: ExitCode.notFound, message: err.message };
  if (err instanceof WorkflowFailedError) {
    // What an activity or the workflow said, not the wrapper's "Activity task failed".
    const cause = rootCause(err.cause);
    if (cause instanceof ApplicationFailure && cause.type === Failure.invalidInput)
      return { code: ExitCode.badInput, message: cause.message };
    return { code: ExitCode.failed, message: `workflow failed: ${cause instanceof Error ? cause.message : err.message}` };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.failed, message: process.env.SCIOPS_DEBUG ? String((err as Error)?.stack ?? err) : message };
}

async function main(): Promise<void> {
  // A reader that stops early (`sciops backup list | head`) closes the pipe: stop quietly, as Unix tools do
  // (128 + SIGPIPE); any other failure to write the output is one line, not a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`sciops: cannot write the output: ${err.message}\n`);
    process.exit(err.code === 'EPIPE' ? EXIT_SIGPIPE : ExitCode.failed);
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    const { code, message } = exitCodeFor(err);
    if (message !== undefined) process.stderr.write(`sciops: ${message}\n`);
    process.exitCode = code;
    // Detached: the result's long poll would hold the process open; nothing else is in flight.
    if (code === ExitCode.interrupted) process.exit(code);
  }
}

/** What a process killed by SIGPIPE exits with, which shells and `set -o pipefail` know. */
const EXIT_SIGPIPE = 141;

if (require.main === module) void main();
