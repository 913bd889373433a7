import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStackExec } from '../../activities/docker/stack-exec';
import { parseDockerHost } from '../../common/config';
import { dockerClient } from '../../workers/create-workers';
import { loadTestbed } from '../support/testbed';

// Review H4c: findServiceTask on a service scaled to 0 was retried forever; it now fails at once.
const name = `sciops-h4-zero-${Date.now().toString(36)}`;
let docker: Dockerode;

beforeAll(async () => {
  docker = dockerClient(parseDockerHost(loadTestbed().dockerHost));
  await docker.createService({
    Name: name,
    TaskTemplate: { ContainerSpec: { Image: 'local/busybox:1', Command: ['sleep', '3600'] } },
    Mode: { Replicated: { Replicas: 0 } },
  });
});

afterAll(async () => {
  await docker
    .getService(name)
    .remove()
    .catch(() => undefined);
});

describe('findServiceTask', () => {
  it('of a service scaled to 0 fails without retry, naming the service and the fix', async () => {
    const err = await createStackExec(docker)
      .findServiceTask({ service: name })
      .then(
        () => undefined,
        (e: Error & { type?: string; nonRetryable?: boolean }) => e,
      );
    expect(err).toMatchObject({ type: 'MigrationFailed', nonRetryable: true });
    expect(err?.message).toContain(`service ${name} is scaled to 0 replicas: there is no task to exec in`);
  });
});
