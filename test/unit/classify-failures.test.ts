import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { classifyFailures, permanentFailure } from '../../activities/classify-failures';
import { ConfigError } from '../../common/errors';
import { Failure } from '../../common/failures';

/** What dockerode throws for an answer of the engine. */
const engineError = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message}`), { statusCode, json: { message } });

describe('errors no retry can fix (review H4c)', () => {
  it('become non-retryable failures with a type: the engine refusing, a setting, a TypeError', () => {
    for (const [err, type, text] of [
      [engineError(409, 'name conflicts with an existing object'), Failure.engineRefused, 'HTTP 409'],
      [engineError(400, 'invalid mount config'), Failure.engineRefused, 'invalid mount config'],
      [engineError(404, 'no such image'), Failure.engineRefused, 'no such image'],
      [engineError(501, 'service mode change is not allowed'), Failure.engineRefused, 'mode change'],
      [new ConfigError('OMICS_URL', 'not a valid URL'), Failure.configInvalid, 'OMICS_URL: not a valid URL'],
      [new TypeError("Cannot read properties of undefined (reading 'token')"), Failure.programError, 'TypeError'],
      [new RangeError('Invalid time value'), Failure.programError, 'RangeError'],
      [
        Object.assign(new Error('permission denied for table samples'), { code: '42501', severity: 'ERROR' }),
        Failure.databaseRefused,
        '42501',
      ],
    ] as const) {
      const failure = permanentFailure(err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type, nonRetryable: true });
      expect(failure?.message).toContain(text);
    }
  });

  it('leave alone what a retry may fix, and what is already decided', () => {
    const decided = ApplicationFailure.create({ type: 'BackupFailed', nonRetryable: true, message: 'no' });
    for (const err of [
      engineError(500, 'update out of sequence'),
      Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03', severity: 'FATAL' }),
      new TypeError('fetch failed'),
      decided,
    ]) {
      expect(permanentFailure(err)).toBeUndefined();
    }
  });

  it('are rethrown so by the wrapped activities, under the caller type when one is given', async () => {
    const activities = classifyFailures({
      create: async () => {
        throw engineError(409, 'already exists');
      },
      flaky: async () => {
        throw engineError(500, 'server error');
      },
      ok: async (n: number) => n + 1,
    });
    await expect(activities.ok(1)).resolves.toBe(2);
    await expect(activities.create()).rejects.toMatchObject({ type: Failure.engineRefused, nonRetryable: true });
    await expect(activities.flaky()).rejects.toMatchObject({ statusCode: 500 });
    const rejected = classifyFailures({ run: activities.create }, Failure.experimentRunRejected);
    await expect(rejected.run()).rejects.toMatchObject({ type: 'ExperimentRunRejected', nonRetryable: true });
  });
});
