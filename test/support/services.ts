import type Dockerode from 'dockerode';

/**
 * A swarm service for a backup or restore to pause: `replicas` tasks of busybox sleeping on the manager's node,
 * stopped within a second (a 1 s grace period), so pausing it takes no longer than the test needs.
 */
export async function createSleepingService(docker: Dockerode, name: string, replicas: number): Promise<void> {
  await docker.createService({
    Name: name,
    TaskTemplate: {
      ContainerSpec: { Image: 'local/busybox:1', Command: ['sleep', '3600'], StopGracePeriod: 1e9 },
      Placement: { Constraints: [`node.hostname==${(await docker.info()).Name}`] },
    },
    Mode: { Replicated: { Replicas: replicas } },
  });
}

/** Removes a service the test made, if it is still there. */
export async function removeService(docker: Dockerode, name: string): Promise<void> {
  await docker
    .getService(name)
    .remove()
    .catch(() => undefined);
}
