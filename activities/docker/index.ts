import type Dockerode from 'dockerode';
import { createEngineHealth } from './engine-health';
import { createExperimentContainers } from './experiment-containers';
import { createExperimentServices } from './experiment-services';
import { createStackExec } from './stack-exec';
import { createStackObserver } from './stack-observe';
import { createStackSecrets } from './stack-secrets';
import { createStackServices } from './stack-services';
import { createVolumesAndNetworks } from './stack-volumes-networks';

/**
 * Activities of the `docker` and `docker@<node>` queues, over one injected engine client.
 * `endpoint` is the DOCKER_HOST text, used in messages; `dirs` are where experiment output and generated
 * secrets (to be read once by the operator) go.
 */
export function createDockerActivities(docker: Dockerode, endpoint: string, dirs: { experiments: string; secrets: string }) {
  // Spreads of objects whose members are async functions (biome's nursery rule mistakes them for promises);
  // a spread keeps every activity's type, where Object.assign of more than four parts degrades to any.
  return {
    ...createEngineHealth(docker, endpoint),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createExperimentContainers(docker, dirs.experiments),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createExperimentServices(docker, dirs.experiments),
    ...createStackObserver(docker),
    ...createVolumesAndNetworks(docker),
    ...createStackSecrets(docker, dirs.secrets),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createStackServices(docker),
    ...createStackExec(docker),
  };
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
