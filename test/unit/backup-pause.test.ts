import { describe, expect, it } from 'vitest';
import { pauseLabels, resumeLabels } from '../../common/backup-pause';
import { PAUSED_BY_LABEL, REPLICAS_LABEL } from '../../common/labels';

describe('a service paused around a backup or restore', () => {
  it('remembers its replicas and who paused it, and comes back only for that workflow', () => {
    const paused = pauseLabels({ app: 'web' }, 3, 'restore-2');
    expect(paused).toEqual({ labels: { app: 'web', [REPLICAS_LABEL]: '3', [PAUSED_BY_LABEL]: 'restore-2' }, replicas: 3, update: true });
    // A retried pause changes nothing.
    expect(pauseLabels(paused.labels, 0, 'restore-2')).toMatchObject({ replicas: 3, update: false });
    // A backup never scales back a service a restore stopped.
    expect(resumeLabels(paused.labels, 'backup-1')).toEqual({ action: 'nothing', heldBy: 'restore-2' });
    expect(resumeLabels(paused.labels, 'restore-2')).toEqual({ action: 'resume', labels: { app: 'web' }, replicas: 3 });
  });

  it('is taken over, with the replicas it had, from a workflow that ended without letting go', () => {
    const left = { [REPLICAS_LABEL]: '2', [PAUSED_BY_LABEL]: 'backup-terminated' };
    const next = pauseLabels(left, 0, 'backup-3');
    expect(next).toEqual({
      labels: { [REPLICAS_LABEL]: '2', [PAUSED_BY_LABEL]: 'backup-3' },
      replicas: 2,
      update: true,
      tookOver: 'backup-terminated',
    });
    expect(resumeLabels(next.labels, 'backup-3')).toEqual({ action: 'resume', labels: {}, replicas: 2 });
  });

  it('resumes a pause from before holders were named, and leaves a service nobody paused alone', () => {
    expect(resumeLabels({ [REPLICAS_LABEL]: '2' }, 'backup-1')).toEqual({ action: 'resume', labels: {}, replicas: 2 });
    expect(resumeLabels({ app: 'web' }, 'backup-1')).toEqual({ action: 'nothing' });
  });
});
