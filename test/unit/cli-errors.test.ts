import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { buildProgram, exitCodeFor } from '../../clients/cli';
import { ConfigError, DetachedError, InputError, UnreachableError } from '../../common/errors';
import { Failure } from '../../common/failures';

describe('exitCodeFor', () => {
  it('maps each kind of failure to its documented exit code and one line', () => {
    expect(exitCodeFor(new ConfigError('DATABASE_URL', 'not a URL'))).toEqual({ code: 2, message: 'DATABASE_URL: not a URL' });
    expect(exitCodeFor(new InputError('doctor options', ['waitSeconds: too small']))).toEqual({
      code: 2,
      message: 'invalid doctor options: waitSeconds: too small',
    });
    expect(exitCodeFor(new UnreachableError('TEMPORAL_ADDRESS', 'the server', 'refused', 'Start it.')).code).toBe(1);
    const invalid = new WorkflowFailedError(
      'failed',
      ApplicationFailure.create({ type: Failure.invalidInput, message: 'invalid doctor input: nodes: bad', nonRetryable: true }),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(exitCodeFor(invalid)).toEqual({ code: 2, message: 'invalid doctor input: nodes: bad' });
    // An activity's own failure under the SDK's wrapper: its message, not "Activity task failed".
    const psql = ApplicationFailure.create({ type: Failure.backupFailed, message: 'psql failed (exit code 3)', nonRetryable: true });
    const inActivity = new WorkflowFailedError(
      'failed',
      new ActivityFailure('Activity task failed', 'restorePostgres', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker', psql),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(exitCodeFor(inActivity)).toEqual({ code: 1, message: 'workflow failed: psql failed (exit code 3)' });
    const refused = ApplicationFailure.create({ type: Failure.invalidInput, message: 'invalid import input: kind', nonRetryable: true });
    const deep = new WorkflowFailedError(
      'failed',
      new ActivityFailure('Activity task failed', 'checkImport', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', refused),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    expect(exitCodeFor(deep)).toEqual({ code: 2, message: 'invalid import input: kind' });
    expect(exitCodeFor(new Error('boom'))).toEqual({ code: 1, message: 'boom' });
    expect(exitCodeFor(new DetachedError('experiment-e1', 'sciops experiment stop e1'))).toEqual({
      code: 130,
      message: 'detached: experiment-e1 keeps running (see it in the Web UI). To cancel it: sciops experiment stop e1',
    });
  });
});

describe('sciops --help', () => {
  function help(command?: string): string {
    let text = '';
    const program = buildProgram();
    const target = command === undefined ? program : program.commands.find((c) => c.name() === command);
    target?.configureOutput({ writeOut: (s) => (text += s) });
    target?.outputHelp();
    return text;
  }

  it('lists every command, with examples and the exit codes', () => {
    const text = help();
    for (const command of ['dev', 'worker', 'doctor']) expect(text).toMatch(new RegExp(`\\n  ${command}\\b`));
    expect(text).toContain('Examples:');
    expect(text).toContain('Exit codes: 0 ok, 1 failed, 2 bad input or configuration, 3 not found, 130 interrupted.');
  });

  it.each(['dev', 'worker', 'doctor'])('%s --help shows examples', (command) => {
    expect(help(command)).toContain(`Examples:\n  sciops ${command}`);
  });
});
