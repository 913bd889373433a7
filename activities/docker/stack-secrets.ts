import { createHash, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { resourceName, type SecretSpec, STACK_LABEL } from '../../common/stack';
import type { SecretRef } from '../../common/stack-resources';

const SECRET_LABEL = 'sciops.secret';
const FINGERPRINT_LABEL = 'sciops.fingerprint';

import { SECRET_REJECTED_TYPE as SECRET_REJECTED } from '../../common/stack-failures';

export interface EnsuredSecret {
  readonly ref: SecretRef;
  readonly created: boolean;
  /** SHA-256 of the value, first 16 hex digits: enough to compare, useless to guess from. */
  readonly fingerprint: string;
  /** For a generated secret: the file (mode 0600, on the manager's worker) holding the value, to read once. */
  readonly shownAt?: string;
}

function generate(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const fingerprintOf = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

/**
 * Swarm secrets. The value is generated, read or looked up, stored in the swarm, and (when generated) written
 * to a file only the operator can read, all inside this one activity: the workflow, its history, its result
 * and the logs see the secret's name, id and fingerprint, never its value. Docker never returns a secret's
 * data, so the fingerprint label is what tells a changed file or variable from an unchanged one.
 */
export function createStackSecrets(docker: Dockerode, secretsDir: string) {
  return {
    async ensureSecret(input: { stack: string; secret: SecretSpec }): Promise<EnsuredSecret> {
      const { stack, secret } = input;
      const dockerName = resourceName(stack, secret.name);
      const showFile = path.resolve(secretsDir, dockerName);
      const [existing] = await docker.listSecrets({ filters: { label: [`${STACK_LABEL}=${stack}`, `${SECRET_LABEL}=${secret.name}`] } });
      const refOf = (id: string, name: string): SecretRef => ({ name: secret.name, dockerName: name, id });

      let value: string;
      if (secret.generate !== undefined) {
        if (existing !== undefined) {
          return {
            ref: refOf(existing.ID, existing.Spec?.Name ?? dockerName),
            created: false,
            fingerprint: existing.Spec?.Labels?.[FINGERPRINT_LABEL] ?? '',
            ...(existsSync(showFile) ? { shownAt: showFile } : {}),
          };
        }
        value = generate(secret.generate.length, secret.generate.alphabet);
        await mkdir(secretsDir, { recursive: true, mode: 0o700 });
        await writeFile(showFile, `${value}\n`, { mode: 0o600 });
        await chmod(showFile, 0o600);
      } else if (secret.file !== undefined) {
        value = await readFile(secret.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw ApplicationFailure.create({
            type: SECRET_REJECTED,
            nonRetryable: true,
            message: `secrets.${secret.name}.file: ${secret.file} cannot be read on the manager's worker (${err.code})`,
          });
        });
      } else {
        const env = secret.env as string;
        const found = process.env[env];
        if (found === undefined || found === '') {
          throw ApplicationFailure.create({
            type: SECRET_REJECTED,
            nonRetryable: true,
            message: `secrets.${secret.name}.env: ${env} is not set in the environment of the manager's worker`,
          });
        }
        value = found;
      }
      const fingerprint = fingerprintOf(value);
      if (existing !== undefined) {
        if (existing.Spec?.Labels?.[FINGERPRINT_LABEL] === fingerprint) {
          return { ref: refOf(existing.ID, existing.Spec?.Name ?? dockerName), created: false, fingerprint };
        }
        throw ApplicationFailure.create({
          type: SECRET_REJECTED,
          nonRetryable: true,
          message: `secret ${dockerName} exists with another value than its ${secret.file !== undefined ? 'file' : 'variable'} now holds; rotating it is not supported yet: remove it with \`sciops teardown ${stack} --purge\` or restore the old value`,
        });
      }
      const created = (await docker.createSecret({
        Name: dockerName,
        Data: Buffer.from(value).toString('base64'),
        Labels: { ...secret.labels, [STACK_LABEL]: stack, [SECRET_LABEL]: secret.name, [FINGERPRINT_LABEL]: fingerprint },
      })) as unknown as { id: string };
      return {
        ref: refOf(created.id, dockerName),
        created: true,
        fingerprint,
        ...(secret.generate !== undefined ? { shownAt: showFile } : {}),
      };
    },

    async removeSecret(input: { id: string }): Promise<void> {
      await docker
        .getSecret(input.id)
        .remove()
        .catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        });
    },
  };
}
