import { describe, expect, it } from 'vitest';
import { accessPointToken } from '../../activities/aws/efs';
import { batchHeartbeat, isExperimentJob, keptJob, queueTimeoutSeconds } from '../../common/batch-jobs';
import { accessPointMismatch } from '../../common/efs';
import { experimentSpecSchema } from '../../common/experiment';
import { parseInput } from '../../common/validate';

const job = (id: string, name = `sciops-exp-${id}`) => ({ jobName: name, tags: { 'sciops.experiment': id } });

describe("an experiment's Batch jobs", () => {
  it('belong to it by exact name and tag: another case, a missing tag or a prefix is someone else', () => {
    expect(isExperimentJob(job('exp1'), 'exp1')).toBe(true);
    expect(isExperimentJob(job('Exp1'), 'exp1')).toBe(false);
    expect(isExperimentJob({ ...job('exp1'), tags: { 'sciops.experiment': 'Exp1' } }, 'exp1')).toBe(false);
    expect(isExperimentJob({ jobName: 'sciops-exp-exp1' }, 'exp1')).toBe(false);
    expect(isExperimentJob(job('exp1', 'sciops-exp-exp10'), 'exp1')).toBe(false);
  });

  it('of several, the oldest is kept (ties by job id), whatever order they are listed in', () => {
    const a = { jobId: 'b', createdAt: 1000 };
    const b = { jobId: 'a', createdAt: 2000 };
    const c = { jobId: 'c', createdAt: 2000 };
    expect(keptJob([c, b, a])).toEqual({ kept: a, duplicates: [b, c] });
    expect(keptJob([b, c])).toEqual({ kept: b, duplicates: [c] });
    expect(keptJob([])).toEqual({ kept: undefined, duplicates: [] });
  });

  it('heartbeat details of a previous attempt are read only when they are what a Batch activity records', () => {
    expect(batchHeartbeat({ jobId: 'j-1' })).toEqual({ jobId: 'j-1' });
    expect(batchHeartbeat({ submitting: true })).toEqual({ submitting: true });
    expect(batchHeartbeat({ jobId: 7, submitting: 'yes' })).toEqual({});
    expect(batchHeartbeat(undefined)).toEqual({});
    expect(batchHeartbeat('j-1')).toEqual({});
  });

  it('the queue timeout is batch.queueTimeoutSeconds, an hour by default; the schema bounds it', () => {
    const spec = (batch: Record<string, unknown>) =>
      parseInput(
        experimentSpecSchema,
        { id: 'e', type: 'inference', image: 'i', backend: 'batch', batch: { jobQueue: 'q', ...batch } },
        'spec',
      );
    expect(queueTimeoutSeconds(spec({}))).toBe(3600);
    expect(queueTimeoutSeconds(spec({ queueTimeoutSeconds: 120 }))).toBe(120);
    expect(() => spec({ queueTimeoutSeconds: 0 })).toThrow(/batch\.queueTimeoutSeconds: /);
  });
});

describe('EFS access points', () => {
  const want = { creationToken: 'omics', path: '/projects/alice/data', uid: 1001, gid: 1001 };

  it('client token: 64 hex characters of a hash over token, directory, uid and gid; each one changes it', () => {
    const token = accessPointToken(want);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(accessPointToken({ ...want, path: '/projects/alice.data' })).not.toBe(token);
    expect(accessPointToken({ ...want, uid: 1002 })).not.toBe(token);
    expect(accessPointToken({ ...want, gid: 1002 })).not.toBe(token);
    expect(accessPointToken({ ...want, creationToken: 'other' })).not.toBe(token);
    // The separator keeps fields apart: uid 1, gid 11 is not uid 11, gid 1.
    expect(accessPointToken({ ...want, uid: 1, gid: 11 })).not.toBe(accessPointToken({ ...want, uid: 11, gid: 1 }));
  });

  it('an existing point is the one asked for only with the same directory, uid, gid and no extra groups', () => {
    const point = { RootDirectory: { Path: want.path }, PosixUser: { Uid: 1001, Gid: 1001 } };
    expect(accessPointMismatch(point, want)).toBeUndefined();
    expect(accessPointMismatch({ ...point, RootDirectory: { Path: '/projects' } }, want)).toBe(
      'its root directory is /projects, not /projects/alice/data',
    );
    expect(accessPointMismatch({ ...point, PosixUser: { Uid: 0, Gid: 1001 } }, want)).toBe(
      'it runs as uid 0 gid 1001, not uid 1001 gid 1001',
    );
    expect(accessPointMismatch({ ...point, PosixUser: { Uid: 1001, Gid: 1001, SecondaryGids: [0] } }, want)).toBe('it adds the groups 0');
    expect(accessPointMismatch({}, want)).toBe('its root directory is not set, not /projects/alice/data');
  });
});
