import { createHash, randomInt } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { Failure, type FailureType, permanent } from '../../common/failures';
import { FINGERPRINT_LABEL, SECRET_LABEL, SECRET_VERSION_LABEL, STACK_LABEL } from '../../common/labels';
import { type SecretSpec, swarmName } from '../../common/stack';
import { namespaced, type ObjectRef } from '../../common/stack-resources';
import { DEFAULT_STACK_SOURCE_POLICY } from '../../common/stack-sources';
import { engineMessage, engineStatus, ignoreStatus } from './errors';
import { createSourceGuard, type SourceGuard } from './stack-sources';

/**
 * Secrets and configs cannot change on the swarm: a new value becomes a new version beside the old ones
 * (`<base>`, then `<base>_v2`, ...), the services move to it, and old versions no service uses are pruned.
 * What follows is shared by both kinds.
 */
export type VersionChange = 'create' | 'rotate' | 'unchanged';

/** One version of a secret or config on the swarm, as its labels describe it. */
export interface Version {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly fingerprint: string;
  readonly createdAt: string;
}

/** The swarm name of a version: `base` first, then `<base>_v2`, `<base>_v3`... Pure. */
export function versionName(base: string, version: number): string {
  return version === 1 ? base : `${base}_v${version}`;
}

/** SHA-256 of a value, first 16 hex digits: enough to compare, useless to guess from. */
export const fingerprintOf = (value: string | Buffer) => createHash('sha256').update(value).digest('hex').slice(0, 16);

/** What a want compares by: a generated secret by its version number, everything else by its content. */
export type Wanted = { readonly version: number } | { readonly fingerprint: string };

export type VersionDecision =
  | { readonly change: 'unchanged'; readonly current: Version }
  | { readonly change: 'create' | 'rotate'; readonly next: number };

/**
 * The one comparison behind both the status (the plan) and the ensure (the deploy): keep the latest version
 * named after `base`, or make version `next`. Versions under another name (the object was renamed) do not
 * count. Pure.
 */
export function versionDecision(base: string, versions: readonly Version[], wanted: Wanted): VersionDecision {
  const latest = versions.filter((v) => v.name === versionName(base, v.version)).at(-1);
  if ('version' in wanted) {
    if (latest !== undefined && latest.version >= wanted.version) return { change: 'unchanged', current: latest };
    return { change: latest === undefined ? 'create' : 'rotate', next: wanted.version };
  }
  if (latest !== undefined && latest.fingerprint === wanted.fingerprint) return { change: 'unchanged', current: latest };
  return { change: latest === undefined ? 'create' : 'rotate', next: (latest?.version ?? 0) + 1 };
}

/** Versions from the engine's list, oldest first (by number, then by creation). */
export function versionsOf(
  found: ReadonlyArray<{ ID: string; CreatedAt?: string; Spec?: { Name?: string; Labels?: Record<string, string> } }>,
  versionLabel: string,
): Version[] {
  return found
    .map((s) => ({
      id: s.ID,
      name: s.Spec?.Name ?? '',
      version: Number(s.Spec?.Labels?.[versionLabel] ?? 1),
      fingerprint: s.Spec?.Labels?.[FINGERPRINT_LABEL] ?? '',
      createdAt: s.CreatedAt ?? '',
    }))
    .sort((a, b) => a.version - b.version || a.createdAt.localeCompare(b.createdAt));
}

/**
 * Removes the oldest versions beyond `keep`, except those a service still uses (the swarm refuses to remove
 * them with 400, or 409 on some engines): returns the names removed.
 */
export async function pruneVersions(all: readonly Version[], keep: number, remove: (id: string) => Promise<unknown>): Promise<string[]> {
  const removed: string[] = [];
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    const inUse = await remove(old.id).then(
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
}

/** A version about to be made whose name an object sciops did not make (none of its labels) already has. */
export function nameTaken(kind: 'secret' | 'config', field: string, dockerName: string, type: FailureType): ApplicationFailure {
  return permanent(
    type,
    `${field}: a ${kind} named ${dockerName} already exists on the swarm and was not made by sciops for this stack; remove it, give the ${kind} another name (dockerName), or declare it external: true`,
  );
}

/**
 * A catch handler for creating a version: the engine's 409 (the name was taken between the check and the
 * create) becomes the same final failure, and its 400 (empty data, too large) one saying why.
 */
export function refusedVersion(kind: 'secret' | 'config', field: string, dockerName: string, type: FailureType) {
  return (err: unknown): never => {
    const status = engineStatus(err);
    if (status === 409) throw nameTaken(kind, field, dockerName, type);
    if (status !== 400) throw err;
    throw permanent(type, `${field}: the swarm refused ${kind} ${dockerName}: ${engineMessage(err)}`);
  };
}

export interface EnsuredSecret {
  readonly ref: ObjectRef;
  /** `create`: the first version; `rotate`: a new version beside the old ones; `unchanged`. */
  readonly change: VersionChange;
  /** SHA-256 of the value, first 16 hex digits. */
  readonly fingerprint: string;
  /** For a generated secret: the file (mode 0600, on the manager's worker) holding the value, to read once. */
  readonly shownAt?: string;
}

function generate(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/**
 * Swarm secrets of a stack, in versions. The value is generated, read or looked up, stored in the swarm, and
 * (when generated) written to a file only the operator can read, all inside one activity: the workflow, its
 * history, its result and the logs see the secret's name, id and fingerprint, never its value. Docker never
 * returns a secret's data and cannot change one, so a new value becomes a new version (`<name>_v2`).
 * External secrets are not handled here: they are only looked up (stack-externals). A `file` or `env` is read
 * only where the worker's stack source policy allows (default: nowhere).
 */
export function createStackSecrets(
  docker: Dockerode,
  secretsDir: string,
  guard: SourceGuard = createSourceGuard(DEFAULT_STACK_SOURCE_POLICY),
) {
  async function versions(stack: string, name: string): Promise<Version[]> {
    const found = await docker.listSecrets({ filters: { label: [`${STACK_LABEL}=${stack}`, `${SECRET_LABEL}=${name}`] } });
    return versionsOf(found as unknown as Parameters<typeof versionsOf>[0], SECRET_VERSION_LABEL);
  }

  /** What ensureSecret would do, with the value read (file, env) when that is what decides. */
  async function decide(stack: string, secret: SecretSpec): Promise<{ base: string; decision: VersionDecision; value?: string | Buffer }> {
    const base = swarmName(stack, secret);
    const all = await versions(stack, secret.name);
    const value = secret.generate === undefined ? await readValue(guard, secret) : undefined;
    const decision = versionDecision(base, all, value === undefined ? { version: secret.version } : { fingerprint: fingerprintOf(value) });
    if (decision.change !== 'unchanged') {
      const name = versionName(base, decision.next);
      const taken = await docker.listSecrets({ filters: { name: [name] } });
      if (taken.some((s) => s.Spec?.Name === name)) throw nameTaken('secret', `secrets.${secret.name}`, name, Failure.secretRejected);
    }
    return { base, decision, ...(value === undefined ? {} : { value }) };
  }

  const refOf = (secret: SecretSpec, v: Version): ObjectRef => ({ name: secret.name, dockerName: v.name, id: v.id });

  return {
    /** What ensureSecret would do now, changing nothing and returning no value; `ref` when unchanged. */
    async secretStatus(input: { stack: string; secret: SecretSpec }): Promise<{ change: VersionChange; ref?: ObjectRef }> {
      const { decision } = await decide(input.stack, input.secret);
      return decision.change === 'unchanged'
        ? { change: 'unchanged', ref: refOf(input.secret, decision.current) }
        : { change: decision.change };
    },

    async ensureSecret(input: { stack: string; secret: SecretSpec }): Promise<EnsuredSecret> {
      const { stack, secret } = input;
      const { base, decision, value: read } = await decide(stack, secret);
      if (decision.change === 'unchanged') {
        return { ref: refOf(secret, decision.current), change: 'unchanged', fingerprint: decision.current.fingerprint };
      }
      const dockerName = versionName(base, decision.next);
      let value = read;
      let showFile: string | undefined;
      if (value === undefined) {
        const g = secret.generate as NonNullable<SecretSpec['generate']>;
        value = generate(g.length, g.alphabet);
        showFile = path.resolve(secretsDir, dockerName);
        await mkdir(secretsDir, { recursive: true, mode: 0o700 });
        await writeFile(showFile, `${value}\n`, { mode: 0o600 });
        await chmod(showFile, 0o600);
      }
      const fingerprint = fingerprintOf(value);
      const created = (await docker
        .createSecret({
          Name: dockerName,
          Data: (typeof value === 'string' ? Buffer.from(value) : value).toString('base64'),
          Labels: {
            ...namespaced(stack, secret.labels),
            [STACK_LABEL]: stack,
            [SECRET_LABEL]: secret.name,
            [SECRET_VERSION_LABEL]: String(decision.next),
            [FINGERPRINT_LABEL]: fingerprint,
          },
          ...(secret.templateDriver === undefined ? {} : { Templating: { Name: secret.templateDriver } }),
        })
        .catch(refusedVersion('secret', `secrets.${secret.name}`, dockerName, Failure.secretRejected))) as { id: string };
      return {
        ref: { name: secret.name, dockerName, id: created.id },
        change: decision.change,
        fingerprint,
        ...(showFile === undefined ? {} : { shownAt: showFile }),
      };
    },

    /** Removes the oldest versions beyond `keep`, except those a service still uses (the swarm refuses those). */
    async pruneSecretVersions(input: { stack: string; name: string; keep: number }): Promise<string[]> {
      return pruneVersions(await versions(input.stack, input.name), input.keep, (id) => docker.getSecret(id).remove());
    },

    async removeSecret(input: { id: string }): Promise<void> {
      await docker.getSecret(input.id).remove().catch(ignoreStatus(404));
    },
  };
}

/** The value of a `file` (its bytes) or `env` secret, read on this worker where its policy allows. */
async function readValue(guard: SourceGuard, secret: SecretSpec): Promise<string | Buffer> {
  const at = `secrets.${secret.name}`;
  if (secret.file !== undefined) return guard.readFile('secret', `${at}.file`, secret.file);
  return guard.readEnv('secret', `${at}.env`, secret.env as string, false);
}
