import type Dockerode from 'dockerode';
import { fingerprint } from '../../common/fingerprint';
import { RECORD_LABEL, SPEC_HASH_LABEL, STACK_LABEL } from '../../common/labels';
import { type GitlabSpec, type RunnerSpec, resourceName } from '../../common/stack';
import { ignoreStatus } from './errors';

export interface GitlabRecord {
  readonly gitlab: GitlabSpec;
  readonly types: ReadonlyArray<RunnerSpec['type']>;
}

/**
 * Where a stack's runners are registered (GitLab URL, the name of the token's variable, the runner types), kept
 * in a swarm config beside the stack so that `sciops teardown NAME` can deregister them with nothing but the
 * stack's name. Not secret: the token itself is only named.
 */
export function createStackGitlabRecord(docker: Dockerode) {
  const nameOf = (stack: string) => resourceName(stack, 'sciops-gitlab');
  const find = async (stack: string) =>
    (await docker.listConfigs({ filters: { name: [nameOf(stack)], label: [`${RECORD_LABEL}=gitlab`] } })).find(
      (c) => c.Spec?.Name === nameOf(stack),
    );

  return {
    /** Creates (or replaces, when it changed) the stack's record; `created`: there was none before. */
    async recordStackGitlab(input: { stack: string; record: GitlabRecord }): Promise<{ created: boolean }> {
      const hash = fingerprint(input.record);
      const found = await find(input.stack);
      if (found?.Spec?.Labels?.[SPEC_HASH_LABEL] === hash) return { created: false };
      if (found !== undefined) await docker.getConfig(found.ID).remove().catch(ignoreStatus(404));
      await docker.createConfig({
        Name: nameOf(input.stack),
        Labels: { [STACK_LABEL]: input.stack, [RECORD_LABEL]: 'gitlab', [SPEC_HASH_LABEL]: hash },
        Data: Buffer.from(JSON.stringify(input.record)).toString('base64'),
      });
      return { created: found === undefined };
    },

    async stackGitlabRecord(input: { stack: string }): Promise<GitlabRecord | null> {
      const found = await find(input.stack);
      if (found === undefined) return null;
      const { Spec } = await docker.getConfig(found.ID).inspect();
      return JSON.parse(Buffer.from(Spec?.Data ?? '', 'base64').toString('utf8')) as GitlabRecord;
    },

    async removeStackGitlabRecord(input: { stack: string }): Promise<void> {
      const found = await find(input.stack);
      if (found !== undefined) await docker.getConfig(found.ID).remove().catch(ignoreStatus(404));
    },
  };
}
