import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { BACKUP_FAILED_TYPE } from '../../common/backup-failures';
import { pauseLabels, resumeLabels } from '../../common/backup-pause';
import { heartbeating, pause } from '../heartbeating';
import { ignoreStatus } from './errors';

/**
 * Scaling services to 0 around a backup or restore, and back. The replicas a service had and the workflow
 * holding it paused are kept in labels on the service itself (see common/backup-pause), set in the same
 * update that scales it down: a retry (the worker died after the update) finds them and keeps the first
 * value instead of recording 0, only the workflow that paused a service resumes it, and resuming works from
 * the labels, whoever runs it.
 */
export function createServicePause(docker: Dockerode) {
  /** The service's spec and version; undefined when there is no such service. */
  async function spec(name: string) {
    const service = docker.getService(name);
    const info = await service.inspect().catch(ignoreStatus(404));
    if (info === undefined) return undefined;
    return {
      service,
      version: info.Version.Index as number,
      spec: info.Spec as Record<string, unknown> & { Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } } },
    };
  }

  /** Waits until no task of the service is running or about to (its containers have stopped). */
  async function drained(name: string): Promise<void> {
    const live = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];
    for (;;) {
      const tasks = (await docker.listTasks({ filters: { service: [name] } })) as Array<{ Status?: { State?: string } }>;
      if (!tasks.some((t) => live.includes(t.Status?.State ?? ''))) return;
      await pause(500);
    }
  }

  return {
    /** Scales the service to 0 for `holder`, who must hold the service's lock (see common/backup-pause). */
    async pauseService(input: { name: string; holder: string }): Promise<{ replicas: number; tookOver?: string }> {
      const found = await spec(input.name);
      if (found === undefined) {
        throw ApplicationFailure.create({
          type: BACKUP_FAILED_TYPE,
          nonRetryable: true,
          message: `stopServices: no service ${input.name} on the swarm`,
        });
      }
      const { service, version, spec: s } = found;
      const next = pauseLabels(s.Labels, s.Mode?.Replicated?.Replicas, input.holder);
      // The version makes a concurrent change of the service fail this update, and the retry re-reads it.
      if (next.update) await service.update({ version, ...s, Labels: next.labels, Mode: { Replicated: { Replicas: 0 } } });
      await heartbeating({ pausing: input.name }, () => drained(input.name));
      return { replicas: next.replicas, ...(next.tookOver === undefined ? {} : { tookOver: next.tookOver }) };
    },

    /** Back to the remembered replicas, if `holder` paused it; a service with no label, or another's, is left alone. */
    async resumeService(input: { name: string; holder: string }): Promise<{ replicas: number | null; heldBy?: string }> {
      // A service removed meanwhile has nothing to resume.
      const found = await spec(input.name);
      if (found === undefined) return { replicas: null };
      const { service, version, spec: s } = found;
      const next = resumeLabels(s.Labels, input.holder);
      if (next.action === 'nothing') return { replicas: null, ...(next.heldBy === undefined ? {} : { heldBy: next.heldBy }) };
      await service.update({ version, ...s, Labels: next.labels, Mode: { Replicated: { Replicas: next.replicas } } });
      return { replicas: next.replicas };
    },
  };
}
