import type Dockerode from 'dockerode';
import { Failure, permanent } from '../../common/failures';
import { heartbeating, pause } from '../heartbeating';
import { discardBox, seal, unseal } from '../sealed-box';

interface SwarmInfo {
  Name: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; RemoteManagers?: Array<{ Addr: string }> | null };
}

interface SwarmNode {
  ID: string;
  Version?: { Index?: number };
  Spec?: { Labels?: Record<string, string>; Role?: string; Availability?: string };
  Description?: { Hostname?: string };
  Status?: { State?: string };
}

/**
 * The swarm's own runbook: `docker swarm init` on the manager, `join-token` there and `docker swarm join` on
 * each node, node labels. The join token never leaves an activity in clear: the manager seals it for a box the
 * joining node's worker opened (see sealed-box.ts).
 */
export function createSwarmMembership(docker: Dockerode, secretsDir: string) {
  const info = () => docker.info() as Promise<SwarmInfo>;

  async function nodeNamed(name: string): Promise<SwarmNode | undefined> {
    const nodes = (await docker.listNodes()) as SwarmNode[];
    // Hostnames are not unique (a node that left and joined again is listed twice): take the live one.
    const own = nodes.filter((n) => n.Description?.Hostname === name);
    return own.find((n) => n.Status?.State === 'ready') ?? own.at(-1);
  }

  return {
    /** `docker swarm init --advertise-addr ... [--data-path-port ...]` when this engine is in no swarm. */
    async ensureSwarm(input: { advertiseAddr: string; dataPathPort?: number }): Promise<{ created: boolean }> {
      if ((await info()).Swarm?.LocalNodeState === 'active') return { created: false };
      await docker.swarmInit({
        ListenAddr: '0.0.0.0:2377',
        AdvertiseAddr: input.advertiseAddr,
        ...(input.dataPathPort === undefined ? {} : { DataPathPort: input.dataPathPort }),
      });
      return { created: true };
    },

    /** On the manager: the worker join token, sealed for the joining node's box, and the managers' addresses. */
    async sealJoinToken(input: { publicKey: string }): Promise<{ sealed: string; managers: string[] }> {
      const [swarm, self] = await Promise.all([docker.swarmInspect() as Promise<{ JoinTokens: { Worker: string } }>, info()]);
      const managers = (self.Swarm?.RemoteManagers ?? []).map((m) => m.Addr);
      return { sealed: seal(input.publicKey, swarm.JoinTokens.Worker), managers };
    },

    /**
     * On the joining node: `docker swarm join` with the token unsealed here. A node already in this swarm (one
     * of its managers is ours) is left alone; a node in another swarm is refused: leaving it is the operator's
     * call.
     */
    async joinSwarm(input: { keyId: string; sealed: string; managers: string[]; advertiseAddr?: string }): Promise<{ joined: boolean }> {
      const own = await info();
      if (own.Swarm?.LocalNodeState === 'active') {
        const theirs = (own.Swarm.RemoteManagers ?? []).map((m) => m.Addr);
        await discardBox(secretsDir, input.keyId);
        if (theirs.some((a) => input.managers.includes(a))) return { joined: false };
        throw permanent(
          Failure.swarmConflict,
          `node ${own.Name} is in another swarm (managers ${theirs.join(', ') || 'unknown'}); run docker swarm leave on it first if it should move`,
        );
      }
      const token = await unseal(secretsDir, input.keyId, input.sealed);
      await docker.swarmJoin({
        ListenAddr: '0.0.0.0:2377',
        RemoteAddrs: input.managers,
        JoinToken: token,
        ...(input.advertiseAddr === undefined ? {} : { AdvertiseAddr: input.advertiseAddr }),
      });
      await discardBox(secretsDir, input.keyId);
      return { joined: true };
    },

    /** On the manager: waits until the node of this hostname is Ready. */
    async waitNodeReady(input: { name: string; seconds: number }): Promise<void> {
      const deadline = Date.now() + input.seconds * 1000;
      await heartbeating({ node: input.name }, async () => {
        while ((await nodeNamed(input.name))?.Status?.State !== 'ready') {
          if (Date.now() > deadline)
            throw permanent(
              Failure.swarmConflict,
              `node ${input.name} joined but is not Ready after ${input.seconds} s: see its engine's log`,
            );
          await pause(500);
        }
      });
    },

    /** On the manager: adds or changes the node's labels given; labels not given are kept. */
    async setNodeLabels(input: { name: string; labels: Record<string, string> }): Promise<{ changed: boolean }> {
      const node = await nodeNamed(input.name);
      if (node?.Spec === undefined || node.Version?.Index === undefined) throw new Error(`no node ${input.name} in the swarm yet`);
      const labels = { ...(node.Spec.Labels ?? {}), ...input.labels };
      if (Object.entries(input.labels).every(([k, v]) => node.Spec?.Labels?.[k] === v)) return { changed: false };
      await docker.getNode(node.ID).update({ version: node.Version.Index, ...node.Spec, Labels: labels });
      return { changed: true };
    },
  };
}
