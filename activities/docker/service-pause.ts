import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { BACKUP_FAILED_TYPE } from '../../common/backup-failures';
import { heartbeating, pause } from '../heartbeating';
import { ignoreStatus } from './errors';

/** On a service that sciops scaled down: the replicas it had, to scale it back to. */
const REPLICAS_LABEL = 'sciops.replicas-before-pause';

/**
 * Scaling services to 0 around a backup or restore, and back. The replicas a service had are kept in a label
 * on the service itself, set in the same update that scales it down: a retry (the worker died after the
 * update) finds the label and keeps the first value instead of recording 0, and resuming works from the
 * label, whoever runs it.
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
    async pauseService(input: { name: string }): Promise<{ replicas: number }> {
      const found = await spec(input.name);
      if (found === undefined) {
        throw ApplicationFailure.create({
          type: BACKUP_FAILED_TYPE,
          nonRetryable: true,
          message: `stopServices: no service ${input.name} on the swarm`,
        });
      }
      const { service, version, spec: s } = found;
      const remembered = s.Labels?.[REPLICAS_LABEL];
      const replicas = remembered === undefined ? (s.Mode?.Replicated?.Replicas ?? 1) : Number(remembered);
      if (remembered === undefined || s.Mode?.Replicated?.Replicas !== 0) {
        await service.update({
          version,
          ...s,
          Labels: { ...s.Labels, [REPLICAS_LABEL]: String(replicas) },
          Mode: { Replicated: { Replicas: 0 } },
        });
      }
      await heartbeating({ pausing: input.name }, () => drained(input.name));
      return { replicas };
    },

    /** Back to the replicas remembered in the label; a service with no label is left alone. */
    async resumeService(input: { name: string }): Promise<{ replicas: number | null }> {
      // A service removed meanwhile has nothing to resume.
      const found = await spec(input.name);
      if (found === undefined) return { replicas: null };
      const { service, version, spec: s } = found;
      const remembered = s.Labels?.[REPLICAS_LABEL];
      if (remembered === undefined) return { replicas: null };
      const { [REPLICAS_LABEL]: _, ...labels } = s.Labels ?? {};
      await service.update({ version, ...s, Labels: labels, Mode: { Replicated: { Replicas: Number(remembered) } } });
      return { replicas: Number(remembered) };
    },
  };
}
