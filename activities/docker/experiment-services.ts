import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import type { ExperimentSpec, RunOutcome } from '../../common/experiment';
import { DEFAULT_EXPERIMENT_POLICY, type ExperimentPolicy } from '../../common/experiment-policy';
import { experimentRunRejected, Failure } from '../../common/failures';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { classifyFailures } from '../classify-failures';
import { saveRunOutput } from '../files/run-output';
import { heartbeating } from '../heartbeating';
import { demuxToEnd } from './demux';
import { engineMessage, engineStatus, ignoreStatus } from './errors';
import { createExperimentGuard } from './experiment-policy';
import { serviceSpec } from './experiment-specs';

/** The parts of a swarm task this file reads (dockerode types tasks as any). */
interface Task {
  readonly ID: string;
  readonly CreatedAt: string;
  readonly NodeID?: string;
  readonly DesiredState: string;
  readonly Status: { State: string; Err?: string; Message?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

/** Task states after which the task's container will not run again. */
const ENDED = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);
const POLL_MS = 500;
/** A placement no node satisfies: how a stopped experiment's service keeps its task from being replaced. */
const STOPPED_CONSTRAINT = 'node.labels.sciops-experiment-stopped==true';

/**
 * A finished service's logs as a stream (dockerode's `service.logs` without `follow` buffers all of them in
 * memory; with `follow` it would wait for tasks that never come): the same request, read as it arrives.
 */
function serviceLogs(docker: Dockerode, id: string, abortSignal: AbortSignal): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/services/${id}/logs?`,
        method: 'GET',
        isStream: true,
        abortSignal,
        statusCodes: { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
        options: { stdout: true, stderr: true, follow: false },
      },
      (err: unknown, stream: unknown) => (err ? reject(err) : resolve(stream as NodeJS.ReadableStream)),
    );
  });
}

/** Whether a task got as far as a container (a rejected one has a ContainerStatus without a container id). */
function ran(t: Task): boolean {
  return (t.Status.ContainerStatus?.ContainerID ?? '') !== '';
}

/**
 * Experiments as one-shot swarm services (one replica, restart condition none), so that the swarm places
 * them by node labels and constraints. Run from the `docker` queue, against a manager. Nothing is created for a
 * spec the worker's experiment policy refuses.
 */
export function createExperimentServices(docker: Dockerode, experimentsDir: string, policy: ExperimentPolicy = DEFAULT_EXPERIMENT_POLICY) {
  const guard = createExperimentGuard(experimentsDir, policy);
  async function find(id: string): Promise<Dockerode.Service | undefined> {
    const list = await docker.listServices({ filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });
    return list[0] === undefined ? undefined : docker.getService(list[0].ID);
  }

  /** The task that ran a container (the newest such), else the newest task. */
  async function task(service: Dockerode.Service): Promise<Task | undefined> {
    const tasks = ((await docker.listTasks({ filters: { service: [service.id] } })) as Task[]).sort((a, b) =>
      b.CreatedAt.localeCompare(a.CreatedAt),
    );
    return tasks.find(ran) ?? tasks[0];
  }

  /**
   * Polls the service's task until it has ended (heartbeating), then saves its logs and exit code. When
   * stopping a task that never got a container (no node fits), undefined: nothing ran.
   */
  async function finish(service: Dockerode.Service, id: string, outputDir: string, stopping = false): Promise<RunOutcome | undefined> {
    const ended = await heartbeating({ service: service.id }, async (signal) => {
      for (;;) {
        const t = await task(service);
        if (stopping && (t === undefined || !ran(t))) return undefined;
        if (t !== undefined && ENDED.has(t.Status.State)) return t;
        await new Promise((r) => setTimeout(r, POLL_MS));
        if (signal.aborted) throw new Error('aborted');
      }
    });
    if (ended === undefined) return undefined;
    const exitCode = ran(ended) ? ended.Status.ContainerStatus?.ExitCode : undefined;
    if (exitCode === undefined) {
      throw experimentRunRejected(
        `the swarm could not run experiment ${id}: task ${ended.Status.State}: ${ended.Status.Err ?? ended.Status.Message ?? 'no reason given'}`,
      );
    }
    const progress = { service: service.id, bytes: 0 };
    return heartbeating(progress, (signal) =>
      saveRunOutput(
        outputDir,
        exitCode,
        async (stdout, stderr) => {
          const stream = await serviceLogs(docker, service.id, signal);
          await demuxToEnd(docker.modem, stream, stdout, stderr);
        },
        'stderr',
        progress,
      ),
    );
  }

  // Anything the engine refuses for good ends the run as rejected (FINISHED_WITH_ERROR), not after endless retries.
  return classifyFailures(
    {
      /** Creates the experiment's service unless it exists, and waits for its task to end. Re-attaches on retry. */
      async runExperimentService(input: { spec: ExperimentSpec }): Promise<RunOutcome> {
        const { spec, outputDir } = await guard.admit(input.spec);
        let service = await find(spec.id);
        if (service === undefined) {
          try {
            const created = (await docker.createService(serviceSpec(spec))) as unknown as { id?: string; ID?: string };
            service = docker.getService(created.id ?? (created.ID as string));
          } catch (err) {
            if (engineStatus(err) === 400) {
              // The swarm refused the spec itself (a bad mount, a limit out of range): the same request fails again.
              throw experimentRunRejected(`the swarm refused experiment ${spec.id}'s service: ${engineMessage(err)}`);
            }
            if (engineStatus(err) === 409) service = await find(spec.id);
            else throw err;
          }
        }
        if (service === undefined) throw new Error(`service of experiment ${spec.id} vanished while it was created`);
        return finish(service, spec.id, outputDir) as Promise<RunOutcome>;
      },

      /**
       * Stops the experiment's task with SIGTERM and, after the service's stop grace period, SIGKILL; then saves
       * what it printed. Scaling to 0 would do that too, but the swarm then deletes the task, its exit code and
       * its logs; so the service is instead updated to a placement no node satisfies: the running task is shut
       * down and kept in the service's history, and its replacement never starts. Undefined when nothing ran.
       */
      async stopExperimentService({ spec }: { spec: ExperimentSpec }): Promise<RunOutcome | undefined> {
        const service = await find(spec.id);
        if (service === undefined) return undefined;
        const info = await service.inspect();
        const constraints: string[] = info.Spec.TaskTemplate?.Placement?.Constraints ?? [];
        if (!constraints.includes(STOPPED_CONSTRAINT)) {
          const template = info.Spec.TaskTemplate ?? {};
          await service.update({
            ...info.Spec,
            TaskTemplate: {
              ...template,
              Placement: { ...template.Placement, Constraints: [...constraints, STOPPED_CONSTRAINT] },
              ForceUpdate: (template.ForceUpdate ?? 0) + 1,
            },
            version: info.Version.Index,
          });
        }
        return finish(service, spec.id, await guard.outputDir(spec), true).catch((err: unknown) => {
          if (err instanceof ApplicationFailure && err.type === Failure.experimentRunRejected) return undefined;
          throw err;
        });
      },

      async removeExperimentService({ spec }: { spec: ExperimentSpec }): Promise<void> {
        const service = await find(spec.id);
        await service?.remove().catch(ignoreStatus(404));
      },
    },
    Failure.experimentRunRejected,
  );
}
