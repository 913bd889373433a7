import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { Failure, permanent } from '../../common/failures';

/**
 * Registry credentials for `withRegistryAuth`, found in this worker's docker CLI config the way the docker
 * CLI finds them for `docker stack deploy --with-registry-auth`: the image's registry (Docker Hub for a name
 * without a registry host), a credential helper configured for it (`credHelpers`, else `credsStore`), else
 * its `auths` entry. The credentials go to the engine in the X-Registry-Auth header and nowhere else: no
 * result, log line or error message of these functions contains them.
 */

/** What the engine takes in X-Registry-Auth (dockerode base64url-encodes it). */
export type RegistryAuth =
  | { readonly username: string; readonly password: string; readonly serveraddress: string }
  | { readonly identitytoken: string; readonly serveraddress: string }
  | { readonly registrytoken: string; readonly serveraddress: string };

interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
  readonly registrytoken?: string;
}

/** The parts of a docker CLI config file (config.json) that hold credentials. */
export interface DockerConfigFile {
  readonly auths?: Readonly<Record<string, AuthEntry>>;
  readonly credsStore?: string;
  readonly credHelpers?: Readonly<Record<string, string>>;
}

/** The key Docker Hub's credentials are stored under (`docker login` writes it). */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry an image is pulled from, as docker's reference parser has it: the first path component when it
 * looks like a host (has a `.` or a `:`, or is `localhost`, and no upper case), else Docker Hub (`docker.io`,
 * also for `index.docker.io/...`). Pure.
 */
export function imageRegistry(image: string): string {
  const slash = image.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = image.slice(0, slash);
  const isHost = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  if (!isHost) return 'docker.io';
  return first === 'index.docker.io' ? 'docker.io' : first;
}

/** A config key reduced to its host[:port], as docker's legacy-key match does (`https://host/v1/` is `host`). Pure. */
export function keyHost(key: string): string {
  let rest = key;
  const scheme = rest.indexOf('://');
  if (scheme !== -1) rest = rest.slice(scheme + 3);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest : rest.slice(0, slash);
}

/** The keys that name this registry, the canonical first: Docker Hub's several aliases, else host[:port]. */
function keysFor(registry: string): { canonical: string; matches: (key: string) => boolean } {
  if (registry === 'docker.io')
    return { canonical: DOCKER_HUB_KEY, matches: (key) => key === DOCKER_HUB_KEY || HUB_HOSTS.has(keyHost(key)) };
  return { canonical: registry, matches: (key) => key === registry || keyHost(key) === registry };
}

/** The entry for the registry: under its exact key first, else under any key that names the same host. */
function entryFor<T>(map: Readonly<Record<string, T>> | undefined, registry: string): { key: string; value: T } | undefined {
  if (!isObject(map) || map === undefined) return undefined;
  const { canonical, matches } = keysFor(registry);
  const key = Object.hasOwn(map, canonical) ? canonical : Object.keys(map).find(matches);
  return key === undefined ? undefined : { key, value: map[key] as T };
}

/** A field of a parsed file when it is a non-empty string. */
const text = (o: unknown, key: string): string | undefined => {
  const v = isObject(o) ? (o as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/**
 * An `auths` entry as the engine takes it, or undefined when it holds no credentials. Throws (naming only the
 * key) when `auth` is not base64 of user:password.
 */
export function authFromEntry(key: string, entry: AuthEntry): RegistryAuth | undefined {
  const identitytoken = text(entry, 'identitytoken');
  if (identitytoken !== undefined) return { identitytoken, serveraddress: key };
  const registrytoken = text(entry, 'registrytoken');
  if (registrytoken !== undefined) return { registrytoken, serveraddress: key };
  const auth = text(entry, 'auth');
  if (auth !== undefined) {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new Error(`the auths entry for ${key} has an auth field that is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, ''), serveraddress: key };
  }
  const username = text(entry, 'username');
  const password = text(entry, 'password');
  if (username === undefined && password === undefined) return undefined;
  return { username: username ?? '', password: password ?? '', serveraddress: key };
}

/** Where the credentials for an image are: a helper to ask (with the entry docker falls back to when it fails), an entry, or none. */
export type AuthSource =
  | { readonly kind: 'helper'; readonly helper: string; readonly serverAddress: string; readonly fallback?: RegistryAuth }
  | { readonly kind: 'entry'; readonly auth: RegistryAuth }
  | { readonly kind: 'none' };

/** The docker CLI's lookup, on a parsed config file. Pure. */
export function authSource(config: DockerConfigFile, image: string): AuthSource {
  const registry = imageRegistry(image);
  const entry = entryFor(config.auths, registry);
  const auth = entry === undefined ? undefined : authFromEntry(entry.key, entry.value);
  const helper = entryFor(config.credHelpers, registry);
  const helperName = (typeof helper?.value === 'string' ? helper.value : undefined) || text(config, 'credsStore');
  if (helperName) {
    return {
      kind: 'helper',
      helper: helperName,
      serverAddress: helper?.key ?? keysFor(registry).canonical,
      ...(auth === undefined ? {} : { fallback: auth }),
    };
  }
  return auth === undefined ? { kind: 'none' } : { kind: 'entry', auth };
}

/**
 * What a credential helper's `get` printed, as the engine takes it: `<token>` as user name means an identity
 * token. Undefined for the helper's "not found". Pure.
 */
export function authFromHelper(output: string, serverAddress: string): RegistryAuth | undefined {
  const parsed: unknown = JSON.parse(output);
  const username = text(parsed, 'Username');
  const secret = text(parsed, 'Secret');
  if (username === '<token>') return secret === undefined ? undefined : { identitytoken: secret, serveraddress: serverAddress };
  if (username === undefined && secret === undefined) return undefined;
  return { username: username ?? '', password: secret ?? '', serveraddress: serverAddress };
}

/** The docker CLI's config file of this worker: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG || path.join(homedir(), '.docker'), 'config.json');
}

async function readConfig(file: string): Promise<DockerConfigFile | undefined> {
  let body: string;
  try {
    body = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw permanent(
      Failure.registryAuthFailed,
      `withRegistryAuth: ${file} cannot be read on the manager's worker (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  if (body.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // The parser's message quotes the text: it is not repeated here.
    throw permanent(Failure.registryAuthFailed, `withRegistryAuth: ${file} is not valid JSON`);
  }
  if (!isObject(parsed)) throw permanent(Failure.registryAuthFailed, `withRegistryAuth: ${file} is not a JSON object`);
  return parsed as DockerConfigFile;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Runs `docker-credential-<helper> get`: its output, or undefined when it failed (the reason is not kept: it may echo the secret). */
function runHelper(
  helper: string,
  serverAddress: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<{ notFound: boolean; output?: string }> {
  return new Promise((resolve) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { stdio: ['pipe', 'pipe', 'ignore'], timeout: timeoutMs, env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', () => resolve({ notFound: false }));
    child.on('close', (code) => {
      if (code === 0) resolve({ notFound: false, output: out });
      else resolve({ notFound: out.trim() === 'credentials not found in native keychain' });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverAddress);
  });
}

/** The credentials a source holds: an entry's, or what its helper answers (its entry when the helper fails, as docker does). */
async function credentialsOf(source: AuthSource, env: NodeJS.ProcessEnv): Promise<RegistryAuth | undefined> {
  if (source.kind === 'none') return undefined;
  if (source.kind === 'entry') return source.auth;
  const result = await runHelper(source.helper, source.serverAddress, env);
  if (result.output === undefined) return result.notFound ? undefined : source.fallback;
  try {
    return authFromHelper(result.output, source.serverAddress);
  } catch {
    return source.fallback;
  }
}

/**
 * The credentials this worker's docker CLI would send for the image, or undefined (no config, no entry for
 * that registry, or a helper that has none: then docker sends none either). `DOCKER_AUTH_CONFIG`, a config
 * given in the environment, is looked at first, as newer docker CLIs do. Throws a non-retryable failure
 * naming the file (never its content) when the config cannot be read or parsed.
 */
export async function registryAuthFor(image: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryAuth | undefined> {
  const configs: Array<{ where: string; config: DockerConfigFile }> = [];
  if (env.DOCKER_AUTH_CONFIG) {
    try {
      const inline = JSON.parse(env.DOCKER_AUTH_CONFIG) as DockerConfigFile | null;
      // Only its auths count: a helper is what the config file names.
      if (isObject(inline) && isObject(inline?.auths))
        configs.push({ where: 'DOCKER_AUTH_CONFIG', config: { auths: inline?.auths ?? {} } });
    } catch {
      throw permanent(Failure.registryAuthFailed, "withRegistryAuth: DOCKER_AUTH_CONFIG on the manager's worker is not valid JSON");
    }
  }
  const file = dockerConfigPath(env);
  const config = await readConfig(file);
  if (config !== undefined) configs.push({ where: file, config });
  for (const { where, config } of configs) {
    let source: AuthSource;
    try {
      source = authSource(config, image);
    } catch (err) {
      throw permanent(Failure.registryAuthFailed, `withRegistryAuth: ${where}: ${(err as Error).message}`);
    }
    const auth = await credentialsOf(source, env);
    if (auth !== undefined) return auth;
  }
  return undefined;
}
