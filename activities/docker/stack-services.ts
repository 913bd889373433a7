import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { SPEC_HASH_LABEL } from '../../common/stack';
import { NOT_CONVERGED_TYPE as NOT_CONVERGED, SERVICE_REJECTED_TYPE as SERVICE_REJECTED } from '../../common/stack-failures';
import type { serviceRequest } from '../../common/stack-resources';
import { heartbeating } from '../heartbeating';
import { engineMessage, engineStatus, ignoreStatus } from './errors';

interface Task {
  readonly CreatedAt: string;
  readonly DesiredState: string;
  readonly NodeID?: string;
  readonly Status: { State: string; Err?: string; Message?: string };
}

/** A catch handler: the swarm's 400 (an invalid spec: a port in use...) becomes a final failure saying why. */
function refused(service: string) {
  return (err: unknown): never => {
    if (engineStatus(err) !== 400) throw err;
    throw ApplicationFailure.create({
      type: SERVICE_REJECTED,
      nonRetryable: true,
      message: `the swarm refused service ${service}: ${engineMessage(err)}`,
    });
  };
}

/** What `docker service ps --no-trunc` shows for the tasks that did not run: state and error. Pure. */
export function taskErrors(tasks: readonly Task[]): string[] {
  return [...tasks]
    .sort((a, b) => b.CreatedAt.localeCompare(a.CreatedAt))
    .filter((t) => t.Status.State !== 'running')
    .slice(0, 5)
    .map((t) => `${t.Status.State}${t.Status.Err ? `: ${t.Status.Err}` : t.Status.Message ? ` (${t.Status.Message})` : ''}`);
}

/** Swarm services of a stack: created or updated by their spec-hash label, watched until converged, rolled back. */
export function createStackServices(docker: Dockerode) {
  async function find(name: string): Promise<Dockerode.Service | undefined> {
    const list = await docker.listServices({ filters: { name: [name] } });
    const found = list.find((s) => s.Spec?.Name === name);
    return found === undefined ? undefined : docker.getService(found.ID);
  }

  return {
    /** Creates the service, or updates it when its spec-hash label differs; unchanged otherwise. */
    async ensureService(input: { request: ReturnType<typeof serviceRequest> }): Promise<{ change: 'create' | 'update' | 'unchanged' }> {
      const service = await find(input.request.Name);
      if (service === undefined) {
        await docker.createService(input.request as unknown as Dockerode.CreateServiceOptions).catch(refused(input.request.Name));
        return { change: 'create' };
      }
      const info = await service.inspect();
      if (info.Spec?.Labels?.[SPEC_HASH_LABEL] === input.request.Labels[SPEC_HASH_LABEL]) return { change: 'unchanged' };
      await service.update({ ...input.request, version: info.Version.Index }).catch(refused(input.request.Name));
      return { change: 'update' };
    },

    /**
     * Waits until the service runs its desired replicas of its current spec, without a restart, for
     * `stableSeconds` (heartbeating): a task that crashes right after starting does not count. After
     * `seconds` it fails, non-retryable, with what the failing tasks say.
     */
    async waitConverged(input: { name: string; replicas: number; seconds: number; stableSeconds: number }): Promise<{ running: number }> {
      const deadline = Date.now() + input.seconds * 1000;
      let stableSince: number | undefined;
      return heartbeating({ service: input.name }, async (signal) => {
        for (;;) {
          const service = await find(input.name);
          if (service === undefined) throw new Error(`service ${input.name} disappeared while it converged`);
          const info = await service.inspect();
          const tasks = (await docker.listTasks({ filters: { service: [info.ID], 'desired-state': ['running'] } })) as Task[];
          const running = tasks.filter((t) => t.Status.State === 'running').length;
          const updating = info.UpdateStatus?.State === 'updating' || info.UpdateStatus?.State === 'rollback_started';
          const converged = running === input.replicas && tasks.length === input.replicas && !updating;
          stableSince = converged ? (stableSince ?? Date.now()) : undefined;
          if (stableSince !== undefined && Date.now() - stableSince >= input.stableSeconds * 1000) return { running };
          if (Date.now() > deadline) {
            const all = (await docker.listTasks({ filters: { service: [info.ID] } })) as Task[];
            const errors = taskErrors(all);
            throw ApplicationFailure.create({
              type: NOT_CONVERGED,
              nonRetryable: true,
              message: `service ${input.name}: ${running}/${input.replicas} tasks running after ${input.seconds}s${errors.length > 0 ? `; tasks: ${errors.join('; ')}` : ''}`,
            });
          }
          await new Promise((r) => setTimeout(r, 500));
          if (signal.aborted) throw new Error('aborted');
        }
      });
    },

    /** Puts the service back to the spec it had before this deploy's update. */
    async rollbackService(input: { name: string }): Promise<void> {
      const service = await find(input.name);
      if (service === undefined) return;
      const info = await service.inspect();
      if (info.PreviousSpec === undefined) return;
      await service.update({ ...info.PreviousSpec, version: info.Version.Index });
    },

    async removeService(input: { name: string }): Promise<void> {
      const service = await find(input.name);
      await service?.remove().catch(ignoreStatus(404));
    },
  };
}
