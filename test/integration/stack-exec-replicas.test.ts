import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStackExec } from '../../activities/docker/stack-exec';
import { useTestbed } from '../support/harness';
import { removeService } from '../support/services';

// Review H4c: findServiceTask on a service scaled to 0 was retried forever; it now fails at once.
const name = `sciops-h4-zero-${Date.now().toString(36)}`;
const { docker } = useTestbed();

beforeAll(async () => {
  await docker.createService({
    Name: name,
    TaskTemplate: { ContainerSpec: { Image: 'local/busybox:1', Command: ['sleep', '3600'] } },
    Mode: { Replicated: { Replicas: 0 } },
  });
});

afterAll(async () => {
  await removeService(docker, name);
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
