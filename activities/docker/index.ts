import type Dockerode from 'dockerode';
import { createEngineHealth } from './engine-health';

/**
 * Activities of the `docker` and `docker@<node>` queues, over one injected engine client.
 * `endpoint` is the DOCKER_HOST text, used in messages.
 */
export function createDockerActivities(docker: Dockerode, endpoint: string) {
  return {
    ...createEngineHealth(docker, endpoint),
  };
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
