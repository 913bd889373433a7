import { createHash, randomInt } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { resourceName, type SecretSpec, STACK_LABEL } from '../../common/stack';
import type { SecretRef } from '../../common/stack-resources';
import { engineStatus, ignoreStatus } from './errors';

const SECRET_LABEL = 'sciops.secret';
const FINGERPRINT_LABEL = 'sciops.fingerprint';
const VERSION_LABEL = 'sciops.secret-version';

import { SECRET_REJECTED_TYPE as SECRET_REJECTED } from '../../common/stack-failures';

export interface EnsuredSecret {
  readonly ref: SecretRef;
  /** `create`: the first version; `rotate`: a new version beside the old ones; `unchanged`. */
  readonly change: 'create' | 'rotate' | 'unchanged';
  /** SHA-256 of the value, first 16 hex digits: enough to compare, useless to guess from. */
  readonly fingerprint: string;
  /** For a generated secret: the file (mode 0600, on the manager's worker) holding the value, to read once. */
  readonly shownAt?: string;
}

interface Version {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly fingerprint: string;
}

function generate(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const fingerprintOf = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

/** The swarm name of a secret's version: `<stack>_<name>` first, then `<stack>_<name>_v2`, ... Pure. */
export function versionName(stack: string, name: string, version: number): string {
  return version === 1 ? resourceName(stack, name) : `${resourceName(stack, name)}_v${version}`;
}

/**
 * Swarm secrets, in versions. The value is generated, read or looked up, stored in the swarm, and (when
 * generated) written to a file only the operator can read, all inside this one activity: the workflow, its
 * history, its result and the logs see the secret's name, id and fingerprint, never its value. Docker never
 * returns a secret's data and cannot change one, so a new value becomes a new version (`<name>_v2`), the
 * services are updated to it, and old versions are pruned once unused.
 */
export function createStackSecrets(docker: Dockerode, secretsDir: string) {
  async function versions(stack: string, name: string): Promise<Version[]> {
    const found = await docker.listSecrets({ filters: { label: [`${STACK_LABEL}=${stack}`, `${SECRET_LABEL}=${name}`] } });
    return found
      .map((s) => ({
        id: s.ID,
        name: s.Spec?.Name ?? '',
        version: Number(s.Spec?.Labels?.[VERSION_LABEL] ?? 1),
        fingerprint: s.Spec?.Labels?.[FINGERPRINT_LABEL] ?? '',
      }))
      .sort((a, b) => a.version - b.version);
  }

  return {
    async ensureSecret(input: { stack: string; secret: SecretSpec }): Promise<EnsuredSecret> {
      const { stack, secret } = input;
      const latest = (await versions(stack, secret.name)).at(-1);
      const refOf = (v: Version): SecretRef => ({ name: secret.name, dockerName: v.name, id: v.id });
      const unchanged = (v: Version): EnsuredSecret => ({ ref: refOf(v), change: 'unchanged', fingerprint: v.fingerprint });

      let value: string;
      let next: number;
      let showFile: string | undefined;
      if (secret.generate !== undefined) {
        if (latest !== undefined && latest.version >= secret.version) return unchanged(latest);
        next = secret.version;
        value = generate(secret.generate.length, secret.generate.alphabet);
        showFile = path.resolve(secretsDir, versionName(stack, secret.name, next));
        await mkdir(secretsDir, { recursive: true, mode: 0o700 });
        await writeFile(showFile, `${value}\n`, { mode: 0o600 });
        await chmod(showFile, 0o600);
      } else {
        value = await readValue(secret);
        if (latest !== undefined && latest.fingerprint === fingerprintOf(value)) return unchanged(latest);
        next = (latest?.version ?? 0) + 1;
      }
      const fingerprint = fingerprintOf(value);
      const dockerName = versionName(stack, secret.name, next);
      const created = (await docker.createSecret({
        Name: dockerName,
        Data: Buffer.from(value).toString('base64'),
        Labels: {
          ...secret.labels,
          [STACK_LABEL]: stack,
          [SECRET_LABEL]: secret.name,
          [VERSION_LABEL]: String(next),
          [FINGERPRINT_LABEL]: fingerprint,
        },
      })) as unknown as { id: string };
      return {
        ref: { name: secret.name, dockerName, id: created.id },
        change: latest === undefined ? 'create' : 'rotate',
        fingerprint,
        ...(showFile === undefined ? {} : { shownAt: showFile }),
      };
    },

    /** Removes the oldest versions beyond `keep`, except those a service still uses (the swarm refuses those). */
    async pruneSecretVersions(input: { stack: string; name: string; keep: number }): Promise<string[]> {
      const all = await versions(input.stack, input.name);
      const removed: string[] = [];
      for (const old of all.slice(0, Math.max(0, all.length - input.keep))) {
        const inUse = await docker
          .getSecret(old.id)
          .remove()
          .then(
            () => false,
            (err: unknown) => {
              const status = engineStatus(err);
              if (status === 404) return false;
              if (status === 400 || status === 409) return true;
              throw err;
            },
          );
        if (!inUse) removed.push(old.name);
      }
      return removed;
    },

    async removeSecret(input: { id: string }): Promise<void> {
      await docker.getSecret(input.id).remove().catch(ignoreStatus(404));
    },
  };
}

/** The value of a `file` or `env` secret, read on this worker. */
async function readValue(secret: SecretSpec): Promise<string> {
  if (secret.file !== undefined) {
    return readFile(secret.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw ApplicationFailure.create({
        type: SECRET_REJECTED,
        nonRetryable: true,
        message: `secrets.${secret.name}.file: ${secret.file} cannot be read on the manager's worker (${err.code})`,
      });
    });
  }
  const env = secret.env as string;
  const found = process.env[env];
  if (found === undefined || found === '') {
    throw ApplicationFailure.create({
      type: SECRET_REJECTED,
      nonRetryable: true,
      message: `secrets.${secret.name}.env: ${env} is not set in the environment of the manager's worker`,
    });
  }
  return found;
}
