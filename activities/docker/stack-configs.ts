import type Dockerode from 'dockerode';
import { Failure } from '../../common/failures';
import { CONFIG_LABEL, CONFIG_VERSION_LABEL, FINGERPRINT_LABEL, STACK_LABEL } from '../../common/labels';
import { type ConfigSpec, swarmName } from '../../common/stack';
import { namespaced, type ObjectRef } from '../../common/stack-resources';
import { DEFAULT_STACK_SOURCE_POLICY } from '../../common/stack-sources';
import { ignoreStatus } from './errors';
import {
  fingerprintOf,
  nameTaken,
  pruneVersions,
  refusedVersion,
  type Version,
  type VersionChange,
  type VersionDecision,
  versionDecision,
  versionName,
  versionsOf,
} from './stack-secrets';
import { createSourceGuard, type SourceGuard } from './stack-sources';

export interface EnsuredConfig {
  readonly ref: ObjectRef;
  /** `create`: the first version; `rotate`: a new version (`<base>_v2`...) beside the old ones; `unchanged`. */
  readonly change: VersionChange;
}

/**
 * Swarm configs of a stack, in versions like secrets: the swarm cannot change a config either, so a changed
 * content becomes a new version, the services move to it, and old versions no service uses are pruned. The
 * content comes from a file or a variable of this worker, or inline; what decides is its fingerprint
 * against the latest version's label. External configs are not handled here (stack-externals). A file or
 * variable is read only where the worker's stack source policy allows (default: nowhere).
 */
export function createStackConfigs(docker: Dockerode, guard: SourceGuard = createSourceGuard(DEFAULT_STACK_SOURCE_POLICY)) {
  async function versions(stack: string, name: string): Promise<Version[]> {
    const found = await docker.listConfigs({ filters: { label: [`${STACK_LABEL}=${stack}`, `${CONFIG_LABEL}=${name}`] } });
    return versionsOf(found, CONFIG_VERSION_LABEL);
  }

  /** What ensureConfig would do; also the content, read once. */
  async function decide(stack: string, config: ConfigSpec): Promise<{ base: string; decision: VersionDecision; content: string | Buffer }> {
    const base = swarmName(stack, config);
    const [all, content] = await Promise.all([versions(stack, config.name), contentOf(guard, config)]);
    const decision = versionDecision(base, all, { fingerprint: fingerprintOf(content) });
    if (decision.change !== 'unchanged') {
      const name = versionName(base, decision.next);
      const taken = await docker.listConfigs({ filters: { name: [name] } });
      if (taken.some((c) => c.Spec?.Name === name)) throw nameTaken('config', `configs.${config.name}`, name, Failure.configRejected);
    }
    return { base, decision, content };
  }

  const refOf = (config: ConfigSpec, v: Version): ObjectRef => ({ name: config.name, dockerName: v.name, id: v.id });

  return {
    /** What ensureConfig would do now, changing nothing; `ref` when unchanged. */
    async configStatus(input: { stack: string; config: ConfigSpec }): Promise<{ change: VersionChange; ref?: ObjectRef }> {
      const { decision } = await decide(input.stack, input.config);
      return decision.change === 'unchanged'
        ? { change: 'unchanged', ref: refOf(input.config, decision.current) }
        : { change: decision.change };
    },

    async ensureConfig(input: { stack: string; config: ConfigSpec }): Promise<EnsuredConfig> {
      const { stack, config } = input;
      const { base, decision, content } = await decide(stack, config);
      if (decision.change === 'unchanged') return { ref: refOf(config, decision.current), change: 'unchanged' };
      const dockerName = versionName(base, decision.next);
      const created = await docker
        .createConfig({
          Name: dockerName,
          Data: (typeof content === 'string' ? Buffer.from(content) : content).toString('base64'),
          Labels: {
            ...namespaced(stack, config.labels),
            [STACK_LABEL]: stack,
            [CONFIG_LABEL]: config.name,
            [CONFIG_VERSION_LABEL]: String(decision.next),
            [FINGERPRINT_LABEL]: fingerprintOf(content),
          },
          ...(config.templateDriver === undefined ? {} : { Templating: { Name: config.templateDriver } }),
        })
        .catch(refusedVersion('config', `configs.${config.name}`, dockerName, Failure.configRejected));
      return { ref: { name: config.name, dockerName, id: (created as { id: string }).id }, change: decision.change };
    },

    /** Removes the oldest versions beyond `keep`, except those a service still uses; returns the names removed. */
    async pruneConfigVersions(input: { stack: string; name: string; keep: number }): Promise<string[]> {
      return pruneVersions(await versions(input.stack, input.name), input.keep, (id) => docker.getConfig(id).remove());
    },

    async removeConfig(input: { id: string }): Promise<void> {
      await docker.getConfig(input.id).remove().catch(ignoreStatus(404));
    },
  };
}

/** A config's content: inline, or read from a file (its bytes) or a variable of this worker where its policy allows. */
async function contentOf(guard: SourceGuard, config: ConfigSpec): Promise<string | Buffer> {
  if (config.content !== undefined) return config.content;
  const at = `configs.${config.name}`;
  if (config.file !== undefined) return guard.readFile('config', `${at}.file`, config.file);
  return guard.readEnv('config', `${at}.env`, config.env as string, true);
}
