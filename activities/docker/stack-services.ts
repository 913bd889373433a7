import type Dockerode from 'dockerode';
import { Failure, permanent } from '../../common/failures';
import { SPEC_HASH_LABEL } from '../../common/labels';
import type { ServiceRequest } from '../../common/stack-resources';
import { beginning, begunBefore, heartbeating } from '../heartbeating';
import { engineMessage, engineStatus, ignoreStatus } from './errors';
import { type RegistryAuth, registryAuthFor } from './registry-auth';
import { convergence, type NodeView, runningSince, type ServiceView, type Task, taskErrors } from './stack-convergence';
import { refuseForeign } from './stack-ownership';

/** A catch handler: the swarm's 400 (an invalid spec: a port in use...) becomes a final failure saying why. */
function refused(service: string) {
  return (err: unknown): never => {
    if (engineStatus(err) !== 400) throw err;
    throw permanent(Failure.serviceRejected, `the swarm refused service ${service}: ${engineMessage(err)}`);
  };
}

/**
 * How often a converging service is looked at: a task's change shows within this, at three or four engine
 * calls a look. Every changed service of a deploy is looked at at once, and the engine that answers is the
 * one starting their containers: at 250 ms the compose bench's four services made about 60 calls a second to
 * an engine on two cores, and its deploys were slower than at 1 s (see bench/README.md).
 */
const POLL_MS = 1000;

/** The swarm's answer to an update whose version is no longer the service's. */
const outOfSequence = (err: unknown) => engineMessage(err).includes('update out of sequence');

/** Calls a dockerode method that takes an optional auth object before its options (its typings omit it). */
type WithAuth = (auth: RegistryAuth | undefined, options: object) => Promise<unknown>;

/** Swarm services of a stack: created or updated by their spec-hash label, watched until converged, rolled back. */
export function createStackServices(docker: Dockerode) {
  async function find(name: string): Promise<Dockerode.Service | undefined> {
    const list = await docker.listServices({ filters: { name: [name] } });
    const found = list.find((s) => s.Spec?.Name === name);
    return found === undefined ? undefined : docker.getService(found.ID);
  }

  return {
    /**
     * Creates the service, or updates it when its spec-hash label differs; unchanged otherwise (or the change an
     * earlier attempt made and could not report, see `begunBefore`). With
     * `withRegistryAuth`, the credentials this worker's docker config holds for the image's registry go to the
     * engine (X-Registry-Auth), which hands them to the nodes that pull it, as `--with-registry-auth` does.
     */
    async ensureService(input: {
      request: ServiceRequest;
      withRegistryAuth: boolean;
    }): Promise<{ change: 'create' | 'update' | 'unchanged' }> {
      const { request } = input;
      // One intent for either change: a second, different heartbeat in the same attempt could be held back.
      const changing = `change service ${request.Name}`;
      let auth: RegistryAuth | undefined;
      let authRead = false;
      for (let attempt = 1; ; attempt++) {
        const service = await find(request.Name);
        const info = service === undefined ? undefined : await service.inspect();
        if (info?.Spec?.Labels?.[SPEC_HASH_LABEL] === request.Labels[SPEC_HASH_LABEL]) {
          // An earlier attempt made this very change and died before its answer: the undo must know it did (an
          // updated service keeps the spec it had, which a created one has not).
          if (!begunBefore(changing)) return { change: 'unchanged' };
          return { change: info.PreviousSpec === undefined ? 'create' : 'update' };
        }
        refuseForeign('service', request.Name, info?.Spec?.Labels, request.Labels);
        if (input.withRegistryAuth && !authRead) {
          auth = await registryAuthFor(request.TaskTemplate.ContainerSpec.Image);
          authRead = true;
        }
        if (service === undefined) {
          beginning(changing);
          await (docker.createService as unknown as WithAuth).call(docker, auth, request).catch(refused(request.Name));
          return { change: 'create' };
        }
        try {
          beginning(changing);
          await (service.update as unknown as WithAuth).call(service, auth, { ...request, version: info.Version.Index });
          return { change: 'update' };
        } catch (err) {
          // The swarm changed the service since it was inspected (its updater, its allocator): inspect again.
          if (!outOfSequence(err) || attempt >= 5) refused(request.Name)(err);
        }
      }
    },

    /**
     * Waits until the service has converged to its current spec (see `convergence`) and its tasks have run for
     * `stableSeconds` in a row (heartbeating), so that a task that crashes right after starting does not count; one meant to finish
     * at once when its update's tasks completed. Fails, non-retryable, as soon as the swarm gave up
     * (a paused or rolled-back update, a finished task that failed with restart condition none), or after
     * `seconds`, with the state of the tasks and what the failing ones say.
     */
    async waitConverged(input: {
      name: string;
      mode: 'replicated' | 'global';
      replicas: number;
      finishes: boolean;
      seconds: number;
      stableSeconds: number;
    }): Promise<{ running: number; complete: number }> {
      const deadline = Date.now() + input.seconds * 1000;
      let stableSince: number | undefined;
      const notConverged = (why: string, tasks: readonly Task[]) => {
        const errors = taskErrors(tasks);
        return permanent(
          Failure.serviceNotConverged,
          `service ${input.name}: ${why}${errors.length > 0 ? `; recent tasks: ${errors.join('; ')}` : ''}`,
        );
      };
      return heartbeating({ service: input.name }, async (signal) => {
        for (;;) {
          const service = await find(input.name);
          if (service === undefined) throw new Error(`service ${input.name} disappeared while it converged`);
          const info = (await service.inspect()) as ServiceView & { ID: string };
          const [tasks, nodes] = await Promise.all([
            docker.listTasks({ filters: { service: [info.ID] } }) as Promise<Task[]>,
            input.mode === 'global' ? (docker.listNodes() as Promise<NodeView[]>) : Promise.resolve([]),
          ]);
          const verdict = convergence(input, info, tasks, nodes);
          if (verdict.state === 'failed') throw notConverged(verdict.why, tasks);
          const result = { running: verdict.running, complete: verdict.complete };
          // Finished tasks stay finished. Only without an update status is it unclear whether they ran the
          // current spec (the swarm may be about to start the update this deploy just made): then it must last.
          if (verdict.state === 'converged' && input.finishes && info.UpdateStatus?.StartedAt !== undefined) return result;
          // Stable counts from when the tasks started running, not from when this loop first saw them so.
          stableSince = verdict.state === 'converged' ? (stableSince ?? runningSince(tasks, Date.now())) : undefined;
          if (stableSince !== undefined && Date.now() - stableSince >= input.stableSeconds * 1000) return result;
          if (Date.now() > deadline) throw notConverged(`not converged after ${input.seconds}s: ${verdict.why}`, tasks);
          await new Promise((r) => setTimeout(r, POLL_MS));
          if (signal.aborted) throw new Error('aborted');
        }
      });
    },

    /** Puts the service back to the spec it had before this deploy's update. */
    async rollbackService(input: { name: string }): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        const service = await find(input.name);
        if (service === undefined) return;
        const info = await service.inspect();
        if (info.PreviousSpec === undefined) return;
        try {
          await service.update({ ...info.PreviousSpec, version: info.Version.Index });
          return;
        } catch (err) {
          if (!outOfSequence(err) || attempt >= 5) throw err;
        }
      }
    },

    async removeService(input: { name: string }): Promise<void> {
      const service = await find(input.name);
      await service?.remove().catch(ignoreStatus(404));
    },
  };
}
