import { log } from '@temporalio/activity';
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
import { containerOptions } from './experiment-specs';

/**
 * Experiments as containers on one engine. Every container carries the experiment id as a label, so
 * each activity finds "its" container again after a crash instead of starting a second one. Nothing is
 * created for a spec the worker's experiment policy refuses (see common/experiment-policy.ts).
 */
export function createExperimentContainers(
  docker: Dockerode,
  experimentsDir: string,
  policy: ExperimentPolicy = DEFAULT_EXPERIMENT_POLICY,
) {
  const guard = createExperimentGuard(experimentsDir, policy);
  async function find(id: string): Promise<Dockerode.ContainerInfo | undefined> {
    const list = await docker.listContainers({ all: true, filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });
    return list[0];
  }

  /** The experiment's container, running or finished: found by label, else created and started. */
  async function startOrFind(spec: ExperimentSpec): Promise<Dockerode.Container> {
    const found = await find(spec.id);
    if (found !== undefined) {
      const container = docker.getContainer(found.Id);
      if (found.State === 'created') await container.start().catch(ignoreStatus(304));
      return container;
    }
    let container: Dockerode.Container;
    try {
      container = await docker.createContainer(containerOptions(spec));
    } catch (err) {
      if (engineStatus(err) === 409) return startOrFind(spec); // created meanwhile by a retry racing this one
      if (engineStatus(err) === 404) {
        throw experimentRunRejected(
          `image ${spec.image} is not on this engine: ${engineMessage(err)}. Build or load it there (docker load / docker build)`,
        );
      }
      // The engine refused the spec itself (a bad mount, a limit out of range): the same request fails again.
      if (engineStatus(err) === 400) {
        throw experimentRunRejected(`Docker refused experiment ${spec.id}'s container: ${engineMessage(err)}`);
      }
      throw err;
    }
    try {
      await container.start();
    } catch (err) {
      throw experimentRunRejected(`Docker could not start experiment ${spec.id}: ${engineMessage(err)}`);
    }
    log.info('experiment container started', { experiment: spec.id, container: container.id.slice(0, 12), image: spec.image });
    return container;
  }

  /**
   * Waits for the container to exit, then saves its logs and exit code; heartbeating all along, the bytes
   * copied so far in the details (gigabytes of log take far longer to copy than the heartbeat timeout).
   */
  async function finish(container: Dockerode.Container, outputDir: string): Promise<RunOutcome> {
    const { StatusCode } = await heartbeating({ container: container.id }, (abortSignal) =>
      container.wait({ condition: 'not-running', abortSignal }),
    );
    const progress = { container: container.id, bytes: 0 };
    return heartbeating(progress, (abortSignal) =>
      saveRunOutput(
        outputDir,
        StatusCode,
        async (stdout, stderr) => {
          const stream = (await container.logs({ follow: true, stdout: true, stderr: true, abortSignal })) as NodeJS.ReadableStream;
          await demuxToEnd(container.modem, stream, stdout, stderr);
        },
        'stderr',
        progress,
      ),
    );
  }

  // Anything the engine refuses for good ends the run as rejected (FINISHED_WITH_ERROR), not after endless retries.
  return classifyFailures(
    {
      /**
       * What the worker's experiment policy says of a spec, for any backend of the docker queue: every refusal,
       * each naming the field and the setting that would allow it (empty: it may run). Creates nothing.
       */
      async checkExperimentSpec({ spec }: { spec: unknown }): Promise<{ refusals: string[] }> {
        return { refusals: [...(await guard.review(spec)).refusals] };
      },

      /**
       * Runs the experiment's container to its end and saves stdout.txt, stderr.txt and exit_code.txt in its
       * output directory. A retry (after a worker died) re-attaches to the same container, running or exited.
       */
      async runExperimentContainer(input: { spec: ExperimentSpec }): Promise<RunOutcome> {
        const { spec, outputDir } = await guard.admit(input.spec);
        return finish(await startOrFind(spec), outputDir);
      },

      /**
       * Stops the experiment's container: SIGTERM, then SIGKILL after its stopGraceSeconds; saves what it printed.
       * Returns undefined when it never started.
       */
      async stopExperimentContainer({ spec }: { spec: ExperimentSpec }): Promise<RunOutcome | undefined> {
        const found = await find(spec.id);
        if (found === undefined) return undefined;
        const container = docker.getContainer(found.Id);
        if (found.State === 'running' || found.State === 'restarting' || found.State === 'paused') {
          await container.stop({ t: spec.stopGraceSeconds }).catch(ignoreStatus(304));
        }
        return finish(container, await guard.outputDir(spec));
      },

      /** Removes the experiment's container once its result is recorded. Nothing there: nothing to do. */
      async removeExperimentContainer({ spec }: { spec: ExperimentSpec }): Promise<void> {
        const found = await find(spec.id);
        if (found !== undefined) await docker.getContainer(found.Id).remove({ force: true }).catch(ignoreStatus(404));
      },
    },
    Failure.experimentRunRejected,
  );
}
