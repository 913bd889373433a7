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
  return Object.assign(
    createEngineHealth(docker, endpoint),
    createExperimentContainers(docker, dirs.experiments),
    createExperimentServices(docker, dirs.experiments),
    createStackObserver(docker),
    createVolumesAndNetworks(docker),
    createStackSecrets(docker, dirs.secrets),
    createStackServices(docker),
    createStackExec(docker),
  );
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
