import type Dockerode from 'dockerode';
import { createEngineHealth } from './engine-health';
import { createExperimentContainers } from './experiment-containers';
import { createExperimentServices } from './experiment-services';

/**
 * Activities of the `docker` and `docker@<node>` queues, over one injected engine client.
 * `endpoint` is the DOCKER_HOST text, used in messages; `experimentsDir` is where experiment output goes.
 */
export function createDockerActivities(docker: Dockerode, endpoint: string, experimentsDir: string) {
  return Object.assign(
    createEngineHealth(docker, endpoint),
    createExperimentContainers(docker, experimentsDir),
    createExperimentServices(docker, experimentsDir),
  );
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
