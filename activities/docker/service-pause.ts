import { hostname } from 'node:os';
import type Dockerode from 'dockerode';
import { pauseLabels, resumeLabels } from '../../common/backup-pause';
import { backupFailed } from '../../common/failures';
import { CONTROL_PLANE_LABEL } from '../../common/labels';
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
      spec: info.Spec as Record<string, unknown> & {
        Name?: string;
        Labels?: Record<string, string>;
        Mode?: { Replicated?: { Replicas?: number } } & Record<string, unknown>;
        TaskTemplate?: { ContainerSpec?: { StopGracePeriod?: number } };
      },
    };
  }

  /** The swarm service this worker runs in, if it runs in one (its container's hostname is the container's id). */
  let ownService: Promise<string | undefined> | undefined;
  const serviceOfThisWorker = () => {
    ownService ??= docker
      .getContainer(hostname())
      .inspect()
      .then(
        (c) => c.Config.Labels?.['com.docker.swarm.service.name'],
        () => undefined,
      );
    return ownService;
  };

  /**
   * Why the service cannot be paused by scaling it to 0, if it cannot: it is not there, it is part of sciops
   * (labelled so, or the service this worker runs in: the workflow that would scale it back needs it), or it
   * is not a replicated service (a global one runs a task on every node whatever its replicas, and the swarm
   * refuses to change a service's mode).
   */
  async function refusal(name: string, found: Awaited<ReturnType<typeof spec>>): Promise<string | undefined> {
    if (found === undefined) return `no service ${name} on the swarm`;
    const own = await serviceOfThisWorker();
    if (found.spec.Labels?.[CONTROL_PLANE_LABEL] !== undefined || (own !== undefined && own === found.spec.Name)) {
      return `service ${name} is part of sciops itself (${own === found.spec.Name ? 'this worker runs in it' : `label ${CONTROL_PLANE_LABEL}`}): pausing it would stop what scales it back; leave it out of stopServices`;
    }
    const mode = Object.keys(found.spec.Mode ?? {})[0] ?? 'Replicated';
    if (mode !== 'Replicated') {
      return `service ${name} is a ${mode.toLowerCase()} service, which cannot be scaled to 0: stop its writes another way and leave it out of stopServices`;
    }
    return undefined;
  }

  /**
   * Waits until no task of the service is running or about to (its containers have stopped). Fails, with
   * no retry, when some still run `seconds` after the scale-down: the workflow then resumes its services.
   */
  async function drained(name: string, seconds: number): Promise<void> {
    const live = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running'];
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const tasks = (await docker.listTasks({ filters: { service: [name] } })) as Array<{ Status?: { State?: string } }>;
      const running = tasks.filter((t) => live.includes(t.Status?.State ?? '')).length;
      if (running === 0) return;
      if (Date.now() > deadline) {
        throw backupFailed(
          `stopServices: ${running} task(s) of service ${name} still run ${seconds}s after it was scaled to 0; see docker service ps ${name} (a node down, a container that ignores SIGTERM)`,
        );
      }
      await pause(500);
    }
  }

  return {
    /**
     * Refuses, before anything is paused, a list naming a service that is not there, that is part of sciops,
     * or that scaling to 0 cannot stop (a global one): one non-retryable failure naming every such service.
     */
    async checkServicesPausable(input: { names: readonly string[] }): Promise<void> {
      const problems: string[] = [];
      for (const name of input.names) {
        const problem = await refusal(name, await spec(name));
        if (problem !== undefined) problems.push(problem);
      }
      if (problems.length > 0) throw backupFailed(`stopServices: ${problems.join('; ')}; nothing was paused`);
    },

    /**
     * Scales the service to 0 for `holder`, who must hold the service's lock (see common/backup-pause), and
     * waits for its tasks to stop: up to `drainSeconds`, by default its stop grace period plus a minute.
     */
    async pauseService(input: { name: string; holder: string; drainSeconds?: number }): Promise<{ replicas: number; tookOver?: string }> {
      const found = await spec(input.name);
      const problem = await refusal(input.name, found);
      if (found === undefined || problem !== undefined) throw backupFailed(`stopServices: ${problem}`);
      const { service, version, spec: s } = found;
      const next = pauseLabels(s.Labels, s.Mode?.Replicated?.Replicas, input.holder);
      // The version makes a concurrent change of the service fail this update, and the retry re-reads it.
      if (next.update) await service.update({ version, ...s, Labels: next.labels, Mode: { Replicated: { Replicas: 0 } } });
      const grace = Math.ceil((s.TaskTemplate?.ContainerSpec?.StopGracePeriod ?? 10e9) / 1e9);
      await heartbeating({ pausing: input.name }, () => drained(input.name, input.drainSeconds ?? grace + 60));
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
      // Only a replicated service was scaled down; any other keeps its mode, and loses only the labels.
      const replicated = s.Mode === undefined || s.Mode.Replicated !== undefined;
      const mode = replicated ? { Mode: { Replicated: { Replicas: next.replicas } } } : {};
      await service.update({ version, ...s, Labels: next.labels, ...mode });
      return { replicas: replicated ? next.replicas : null };
    },
  };
}
