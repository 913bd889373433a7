import type Dockerode from 'dockerode';
import { lastLines } from '../../common/experiment';
import { Failure, permanent } from '../../common/failures';
import { RUNNER_CONFIG_FILE, registerCommand, registeredRunners } from '../../common/gitlab-runners';
import { discardBox, unseal } from '../sealed-box';
import { execIn } from './stack-exec';

/**
 * gitlab-runner inside a stack's runner container, on the node that runs it: what it has registered, and
 * `gitlab-runner register` with a runner token unsealed here and handed over in CI_SERVER_TOKEN (the
 * documented variable for --token), so it is on no command line and in no process list.
 */
export function createRunnerRegistration(docker: Dockerode, secretsDir: string) {
  return {
    /** The id under which the container's config.toml has a runner of this name, if it has one. */
    async runnerRegistration(input: { containerId: string; name: string }): Promise<{ id: number | null }> {
      const { exitCode, output } = await execIn(docker, input.containerId, ['cat', RUNNER_CONFIG_FILE]);
      if (exitCode !== 0) return { id: null };
      const entries = registeredRunners(output).filter((r) => r.name === input.name);
      return { id: entries.at(-1)?.id ?? null };
    },

    async registerRunner(input: {
      containerId: string;
      keyId: string;
      sealed: string;
      url: string;
      name: string;
      executor: string;
      dockerImage?: string;
    }): Promise<void> {
      const token = await unseal(secretsDir, input.keyId, input.sealed);
      const { exitCode, output } = await execIn(docker, input.containerId, registerCommand(input), [`CI_SERVER_TOKEN=${token}`]);
      await discardBox(secretsDir, input.keyId);
      if (exitCode !== 0) {
        throw permanent(
          Failure.runnerFailed,
          `gitlab-runner register for ${input.name} exited with code ${exitCode}: ${lastLines(output.replaceAll(token, '[token]'), 5)}`,
        );
      }
    },
  };
}
