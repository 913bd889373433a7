import type { S3Client } from '@aws-sdk/client-s3';
import type Dockerode from 'dockerode';
import { DEFAULT_STACK_SOURCE_POLICY, type StackSourcePolicy } from '../../common/stack-sources';
import { classifyFailures } from '../classify-failures';
import { createBackupDirProbe } from '../files/backup-dir-probe';
import { createBackupRuns } from '../files/backup-runs';
import { createBackupImport } from '../files/import-file';
import { createSealedBoxes } from '../sealed-box';
import { createEngineHealth } from './engine-health';
import { createEngineNode } from './engine-node';
import { createExperimentContainers } from './experiment-containers';
import { createExperimentServices } from './experiment-services';
import { createPgServiceBackup } from './pg-service-backup';
import { createRunnerRegistration } from './runner-registration';
import { createServicePause } from './service-pause';
import { createStackConfigs } from './stack-configs';
import { createStackExec } from './stack-exec';
import { createStackExternals } from './stack-externals';
import { createStackGitlabRecord } from './stack-gitlab-record';
import { createStackObserver } from './stack-observe';
import { createStackSecrets } from './stack-secrets';
import { createStackServices } from './stack-services';
import { createSourceGuard, createStackSourceCheck } from './stack-sources';
import { createVolumesAndNetworks } from './stack-volumes-networks';
import { createSwarmMembership } from './swarm-membership';
import { createVolumeBackup } from './volume-backup';

/**
 * Activities of the `docker` and `docker@<node>` queues, over one injected engine client.
 * `endpoint` is the DOCKER_HOST text, used in messages; `dirs` are where experiment output and generated
 * secrets (to be read once by the operator) go, and the local backup directory the doctor probes
 * (SCIOPS_BACKUP_DIR); `s3` serves backups kept in a bucket; `node` is the node queue this worker polls
 * (docker@<node>), which `engineNode` tells the workflows that pin their engine-local work. Errors no retry can
 * fix (the engine's 400, 404, 409, 501; a TypeError) end an activity at once (see classify-failures).
 */
export function createDockerActivities(
  docker: Dockerode,
  endpoint: string,
  dirs: { experiments: string; secrets: string; backup?: string },
  s3: () => S3Client,
  sources: StackSourcePolicy = DEFAULT_STACK_SOURCE_POLICY,
  node?: string,
) {
  // What a stack's secrets and configs may read on this worker (default: no file, no variable).
  const guard = createSourceGuard(sources);
  // Spreads of objects whose members are async functions (biome's nursery rule mistakes them for promises);
  // a spread keeps every activity's type, where Object.assign of more than four parts degrades to any.
  return classifyFailures({
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createEngineHealth(docker, endpoint),
    ...createEngineNode(node),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createExperimentContainers(docker, dirs.experiments),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createExperimentServices(docker, dirs.experiments),
    ...createStackObserver(docker),
    ...createVolumesAndNetworks(docker),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createStackSecrets(docker, dirs.secrets, guard),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createStackConfigs(docker, guard),
    ...createStackSourceCheck(guard),
    ...createStackExternals(docker),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createStackServices(docker),
    ...createStackExec(docker),
    ...createSwarmMembership(docker, dirs.secrets),
    ...createSealedBoxes(dirs.secrets),
    ...createRunnerRegistration(docker, dirs.secrets),
    ...createStackGitlabRecord(docker),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createVolumeBackup(docker, s3),
    ...createPgServiceBackup(docker, s3),
    ...createServicePause(docker),
    ...createBackupRuns(s3),
    ...createBackupDirProbe(dirs.backup),
    // biome-ignore lint/nursery/noMisusedPromises: an object of activity functions, not a promise
    ...createBackupImport(s3, dirs.backup),
  });
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
