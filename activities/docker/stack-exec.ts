import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { maskedTail } from '../../common/failure-output';
import { Failure, permanent } from '../../common/failures';
import { demuxToEnd } from './demux';

/** Runs a command in a container (`docker exec`), with extra environment variables; returns its exit code and output. */
export async function execIn(
  docker: Dockerode,
  containerId: string,
  command: string[],
  env: string[] = [],
): Promise<{ exitCode: number; output: string }> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: command, Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let output = '';
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await demuxToEnd(docker.modem, stream, sink, sink);
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output };
}

/** One-off commands in a running task of a stack's service (e.g. create the admin user), guarded by `unless`. */
export function createStackExec(docker: Dockerode) {
  return {
    /**
     * The node and container of one running task of the service (ask the manager). None running yet: a plain
     * error, retried (a task restarting); a service scaled to 0, which will never have one: no retry.
     */
    async findServiceTask(input: { service: string }): Promise<{ node: string; containerId: string }> {
      const { Spec } = await docker.getService(input.service).inspect();
      if (Spec?.Mode?.Replicated?.Replicas === 0) {
        throw permanent(
          Failure.migrationFailed,
          `service ${input.service} is scaled to 0 replicas: there is no task to exec in; scale it up (replicas: 1 or more) and deploy again`,
        );
      }
      const tasks = (await docker.listTasks({ filters: { service: [input.service], 'desired-state': ['running'] } })) as Array<{
        NodeID: string;
        Status: { State: string; ContainerStatus?: { ContainerID?: string } };
      }>;
      const running = tasks.find((t) => t.Status.State === 'running' && t.Status.ContainerStatus?.ContainerID);
      if (running === undefined) throw new Error(`service ${input.service} has no running task to exec in yet`);
      const node = await docker.getNode(running.NodeID).inspect();
      return { node: node.Description?.Hostname ?? '', containerId: running.Status.ContainerStatus?.ContainerID as string };
    },

    /**
     * Runs `unless`; when it exits 0 the step is done already. Otherwise runs `command`, which must exit 0.
     * Its output is kept nowhere else, so a failure quotes its last lines, masked (maskedTail): never a
     * PostgreSQL CONTEXT or DETAIL line, a password, hash, e-mail address or quoted value.
     */
    async execInContainer(input: { step: string; containerId: string; command: string[]; unless: string[] }): Promise<{ ran: boolean }> {
      if ((await execIn(docker, input.containerId, input.unless)).exitCode === 0) return { ran: false };
      const { exitCode, output } = await execIn(docker, input.containerId, input.command);
      if (exitCode !== 0) {
        throw permanent(
          Failure.migrationFailed,
          `step ${input.step} exited with code ${exitCode} (its last lines, masked; run the command with docker exec in container ${input.containerId.slice(0, 12)} for all of it): ${maskedTail(output)}`,
        );
      }
      return { ran: true };
    },
  };
}
