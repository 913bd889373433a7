import type Dockerode from 'dockerode';
import type { networkRequest, volumeRequest } from '../../common/stack-resources';
import { beginning, begunBefore } from '../heartbeating';
import { engineStatus, ignoreStatus } from './errors';
import { refuseForeign } from './stack-ownership';

/**
 * Named volumes (on the node whose queue runs this) and overlay networks (on a manager). Each `ensure`
 * looks up the name first and reports whether it created anything, so a retry or a re-run changes nothing;
 * a retry whose earlier attempt created it but lost the answer still reports it created (`begunBefore`).
 */
export function createVolumesAndNetworks(docker: Dockerode) {
  return {
    async ensureVolume(input: { request: ReturnType<typeof volumeRequest> }): Promise<{ created: boolean }> {
      const existing = await docker.getVolume(input.request.Name).inspect().catch(ignoreStatus(404));
      refuseForeign('volume', input.request.Name, existing?.Labels, input.request.Labels);
      const what = `create volume ${input.request.Name}`;
      if (existing !== undefined) return { created: begunBefore(what) };
      beginning(what);
      await docker.createVolume(input.request);
      return { created: true };
    },

    /**
     * Removes the volume; while it is in use (the containers of a service just removed take a moment to go,
     * on their own node) it tries again for a minute, then names the containers.
     */
    async removeVolume(input: { name: string }): Promise<void> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await docker.getVolume(input.name).remove();
          return;
        } catch (err) {
          if (engineStatus(err) === 404) return;
          if (engineStatus(err) !== 409 || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },

    async ensureNetwork(input: { request: ReturnType<typeof networkRequest> }): Promise<{ created: boolean }> {
      const found = (await docker.listNetworks({ filters: { name: [input.request.Name] } })).find((n) => n.Name === input.request.Name);
      refuseForeign('network', input.request.Name, found?.Labels, input.request.Labels);
      const what = `create network ${input.request.Name}`;
      if (found !== undefined) return { created: begunBefore(what) };
      beginning(what);
      await docker.createNetwork(input.request);
      return { created: true };
    },

    /**
     * Removes the network and returns once the manager no longer lists it: a node keeps its local copy of an
     * overlay network until the last container on it is gone, and a deploy right after a teardown would
     * otherwise take that copy for the network and attach services to one that no longer exists.
     */
    async removeNetwork(input: { name: string }): Promise<void> {
      const listed = async () => (await docker.listNetworks({ filters: { name: [input.name] } })).filter((x) => x.Name === input.name);
      for (const n of await listed()) {
        await docker.getNetwork(n.Id).remove().catch(ignoreStatus(404));
      }
      const deadline = Date.now() + 60_000;
      while ((await listed()).length > 0) {
        if (Date.now() > deadline) throw new Error(`network ${input.name} is still listed a minute after its removal`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  };
}
