import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  authFromHelper,
  authSource,
  DOCKER_HUB_KEY,
  dockerConfigPath,
  imageRegistry,
  keyHost,
  registryAuthFor,
} from '../../activities/docker/registry-auth';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A DOCKER_CONFIG directory holding this config.json (text as given, or JSON of an object). */
function configDir(config: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sciops-docker-config-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

const basic = (user: string, password: string) => ({ auth: Buffer.from(`${user}:${password}`).toString('base64') });
const env = (dir: string, extra: Record<string, string> = {}) => ({ DOCKER_CONFIG: dir, PATH: process.env.PATH ?? '', ...extra });

describe('imageRegistry: the registry of an image, as docker normalises references', () => {
  it.each([
    ['busybox', 'docker.io'],
    ['busybox:1.36', 'docker.io'],
    ['library/postgres:16', 'docker.io'],
    ['gitlab/gitlab-runner:latest', 'docker.io'],
    ['docker.io/library/redis', 'docker.io'],
    ['index.docker.io/library/redis', 'docker.io'],
    ['registry.example.org/team/app:2', 'registry.example.org'],
    ['registry.example.org:5000/app', 'registry.example.org:5000'],
    ['localhost/app', 'localhost'],
    ['localhost:5000/app@sha256:0123', 'localhost:5000'],
    ['ghcr.io/owner/image', 'ghcr.io'],
    ['Registry/app', 'Registry'],
  ])('%s is pulled from %s', (image, registry) => {
    expect(imageRegistry(image)).toBe(registry);
  });

  it('reduces config keys to host[:port] as the legacy-key match does', () => {
    expect(keyHost('https://index.docker.io/v1/')).toBe('index.docker.io');
    expect(keyHost('http://registry.example.org:5000/v2/')).toBe('registry.example.org:5000');
    expect(keyHost('registry.example.org')).toBe('registry.example.org');
  });
});

describe('authSource: the auths entry, or the helper, docker would use', () => {
  it('finds Docker Hub under the key docker login writes, or its aliases', () => {
    for (const key of [DOCKER_HUB_KEY, 'docker.io', 'index.docker.io', 'https://index.docker.io/v1/']) {
      expect(authSource({ auths: { [key]: basic('hub-user', 'hub-pass') } }, 'postgres:16')).toEqual({
        kind: 'entry',
        auth: { username: 'hub-user', password: 'hub-pass', serveraddress: key },
      });
    }
  });

  it('prefers the exact key over an alias', () => {
    const auths = { 'docker.io': basic('alias', 'x'), [DOCKER_HUB_KEY]: basic('canonical', 'y') };
    expect(authSource({ auths }, 'busybox')).toMatchObject({ kind: 'entry', auth: { username: 'canonical' } });
  });

  it('matches a private registry by host and port, also under a URL key, and nothing else', () => {
    const auths = {
      'https://registry.example.org:5000/v2/': basic('private', 'secret'),
      'registry.example.org': basic('other-port', 'x'),
    };
    expect(authSource({ auths }, 'registry.example.org:5000/app:1')).toMatchObject({ auth: { username: 'private', password: 'secret' } });
    expect(authSource({ auths }, 'registry.example.org/app')).toMatchObject({ auth: { username: 'other-port' } });
    expect(authSource({ auths }, 'busybox')).toEqual({ kind: 'none' });
    expect(authSource({ auths }, 'ghcr.io/owner/app')).toEqual({ kind: 'none' });
  });

  it('takes username and password fields, identity tokens and registry tokens', () => {
    expect(authSource({ auths: { 'r.example': { username: 'u', password: 'p' } } }, 'r.example/a')).toMatchObject({
      auth: { username: 'u', password: 'p', serveraddress: 'r.example' },
    });
    expect(authSource({ auths: { 'r.example': { identitytoken: 'tok' } } }, 'r.example/a')).toEqual({
      kind: 'entry',
      auth: { identitytoken: 'tok', serveraddress: 'r.example' },
    });
    expect(authSource({ auths: { 'r.example': { registrytoken: 'rt' } } }, 'r.example/a')).toMatchObject({ auth: { registrytoken: 'rt' } });
  });

  it('an empty entry (what a credential store leaves in auths) holds no credentials', () => {
    expect(authSource({ auths: { 'r.example': {} } }, 'r.example/a')).toEqual({ kind: 'none' });
  });

  it('asks the registry’s credential helper, else the credsStore, with the entry as fallback', () => {
    const config = {
      auths: { 'ecr.example': basic('file-user', 'file-pass') },
      credHelpers: { 'ecr.example': 'ecr-login' },
      credsStore: 'pass',
    };
    expect(authSource(config, 'ecr.example/app')).toEqual({
      kind: 'helper',
      helper: 'ecr-login',
      serverAddress: 'ecr.example',
      fallback: { username: 'file-user', password: 'file-pass', serveraddress: 'ecr.example' },
    });
    expect(authSource(config, 'busybox')).toEqual({ kind: 'helper', helper: 'pass', serverAddress: DOCKER_HUB_KEY });
  });

  it('reads a helper’s answer; <token> as user name is an identity token', () => {
    expect(authFromHelper('{"ServerURL":"r","Username":"u","Secret":"s"}', 'r')).toEqual({
      username: 'u',
      password: 's',
      serveraddress: 'r',
    });
    expect(authFromHelper('{"Username":"<token>","Secret":"t"}', 'r')).toEqual({ identitytoken: 't', serveraddress: 'r' });
    expect(authFromHelper('{}', 'r')).toBeUndefined();
  });

  it('says which key holds an auth field that is not user:password, without its value', () => {
    expect(() => authSource({ auths: { 'r.example': { auth: Buffer.from('no-colon-here').toString('base64') } } }, 'r.example/a')).toThrow(
      /^the auths entry for r\.example has an auth field that is not base64 of user:password$/,
    );
  });
});

describe('registryAuthFor: this worker’s docker config', () => {
  it('is $DOCKER_CONFIG/config.json, else ~/.docker/config.json', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/sciops/docker' })).toBe('/etc/sciops/docker/config.json');
    expect(dockerConfigPath({})).toMatch(/\/\.docker\/config\.json$/);
  });

  it('finds the credentials for the image’s registry', async () => {
    const dir = configDir({ auths: { 'registry.example.org': basic('deploy', 'pa:ss') } });
    expect(await registryAuthFor('registry.example.org/app:1', env(dir))).toEqual({
      username: 'deploy',
      password: 'pa:ss',
      serveraddress: 'registry.example.org',
    });
  });

  it('no config file, an empty one, or no entry for the registry: no credentials, as docker sends none', async () => {
    const missing = path.join(configDir('{}'), 'nothing-here');
    expect(await registryAuthFor('busybox', env(missing))).toBeUndefined();
    expect(await registryAuthFor('busybox', env(configDir('')))).toBeUndefined();
    expect(await registryAuthFor('busybox', env(configDir({ auths: { 'registry.example.org': basic('u', 'p') } })))).toBeUndefined();
  });

  it('a config that is not JSON fails naming the file, not quoting it', async () => {
    const dir = configDir('{"auths": {"r.example": {"auth": "c2VjcmV0LXZhbHVl"}} oops');
    const err = await registryAuthFor('r.example/a', env(dir)).catch((e: Error & { type?: string; nonRetryable?: boolean }) => e);
    expect(err).toMatchObject({ type: 'RegistryAuthFailed', nonRetryable: true });
    expect((err as Error).message).toBe(`withRegistryAuth: ${path.join(dir, 'config.json')} is not valid JSON`);
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });

  it('looks at DOCKER_AUTH_CONFIG first, then the file', async () => {
    const dir = configDir({ auths: { 'a.example': basic('from-file', 'f') } });
    const inline = JSON.stringify({ auths: { 'b.example': basic('from-env', 'e') } });
    expect(await registryAuthFor('b.example/x', env(dir, { DOCKER_AUTH_CONFIG: inline }))).toMatchObject({ username: 'from-env' });
    expect(await registryAuthFor('a.example/x', env(dir, { DOCKER_AUTH_CONFIG: inline }))).toMatchObject({ username: 'from-file' });
  });

  describe('through a credential helper (docker-credential-<name> on PATH)', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'sciops-cred-helper-'));
    dirs.push(bin);
    // The helper protocol: `get` reads the server address on stdin and prints JSON, or "not found" and exits 1.
    writeFileSync(
      path.join(bin, 'docker-credential-fake'),
      [
        '#!/bin/sh',
        'read -r server || true',
        'case "$server" in',
        '  helper.example) echo \'{"ServerURL":"helper.example","Username":"helper-user","Secret":"helper-secret"}\' ;;',
        '  token.example) echo \'{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-token"}\' ;;',
        '  broken.example) echo "boom helper-secret"; exit 2 ;;',
        '  *) echo "credentials not found in native keychain"; exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'docker-credential-fake'), 0o755);
    const withHelper = (config: unknown) => ({ DOCKER_CONFIG: configDir(config), PATH: `${bin}:${process.env.PATH ?? ''}` });

    it('answers for the registry it is configured for', async () => {
      const e = withHelper({ credHelpers: { 'helper.example': 'fake', 'token.example': 'fake' } });
      expect(await registryAuthFor('helper.example/app', e)).toEqual({
        username: 'helper-user',
        password: 'helper-secret',
        serveraddress: 'helper.example',
      });
      expect(await registryAuthFor('token.example/app', e)).toEqual({ identitytoken: 'refresh-token', serveraddress: 'token.example' });
    });

    it('"not found": no credentials, even with an auths entry (as docker)', async () => {
      const e = withHelper({ credsStore: 'fake', auths: { 'other.example': basic('stale', 'x') } });
      expect(await registryAuthFor('other.example/app', e)).toBeUndefined();
    });

    it('a helper that fails or is not installed: the auths entry, as docker falls back to it', async () => {
      const broken = withHelper({ credHelpers: { 'broken.example': 'fake' }, auths: { 'broken.example': basic('file-user', 'p') } });
      expect(await registryAuthFor('broken.example/app', broken)).toMatchObject({ username: 'file-user' });
      const absent = withHelper({ credsStore: 'not-installed', auths: { 'r.example': basic('file-user', 'p') } });
      expect(await registryAuthFor('r.example/app', absent)).toMatchObject({ username: 'file-user' });
      expect(await registryAuthFor('busybox', absent)).toBeUndefined();
    });
  });
});
