import { describe, expect, it } from 'vitest';
import { readConfig } from '../../common/config';
import { ConfigError, InputError } from '../../common/errors';
import { stackSpecSchema } from '../../common/stack';
import {
  checkSources,
  DEFAULT_STACK_SOURCE_POLICY,
  fileSourceRefusal,
  gitlabRefusal,
  readStackSourcePolicy,
  type StackSourcePolicy,
} from '../../common/stack-sources';
import { parseInput } from '../../common/validate';

const parse = (v: unknown) => parseInput(stackSpecSchema, v, 'stack spec');
const issues = (v: unknown): readonly string[] => {
  try {
    parse(v);
  } catch (err) {
    if (err instanceof InputError) return err.issues;
    throw err;
  }
  return [];
};
const base = { name: 'omics', services: [{ name: 'runner', image: 'busybox' }] };
const withGitlab = (gitlab: Record<string, unknown>) => ({
  ...base,
  gitlab,
  runners: [{ name: 'c', service: 'runner', executor: 'shell' }],
});
const policy = (more: Partial<StackSourcePolicy>): StackSourcePolicy => ({ ...DEFAULT_STACK_SOURCE_POLICY, ...more });

describe('stack spec: GitLab and secret sources', () => {
  it("refuses the review's trigger: http to another host, and a token variable that is not SCIOPS_GITLAB_TOKEN*", () => {
    const found = issues(withGitlab({ url: 'http://attacker.example', tokenEnv: 'AWS_SECRET_ACCESS_KEY' }));
    expect(found).toEqual([
      'gitlab.url: http would send the access token in clear: use https://attacker.example (http only for a loopback address)',
      "gitlab.tokenEnv: AWS_SECRET_ACCESS_KEY is not a variable the manager's worker lends to GitLab: name one that starts with SCIOPS_GITLAB_TOKEN (e.g. SCIOPS_GITLAB_TOKEN or SCIOPS_GITLAB_TOKEN_LAB) and set it there",
    ]);
  });

  it('takes https with a path, http on loopback, and SCIOPS_GITLAB_TOKEN by default', () => {
    expect(parse(withGitlab({ url: 'https://example.org/gitlab' })).gitlab).toEqual({
      url: 'https://example.org/gitlab',
      tokenEnv: 'SCIOPS_GITLAB_TOKEN',
    });
    expect(issues(withGitlab({ url: 'http://127.0.0.1:8929', tokenEnv: 'SCIOPS_GITLAB_TOKEN_LAB' }))).toEqual([]);
    expect(issues(withGitlab({ url: 'http://[::1]:8929' }))).toEqual([]);
  });

  it.each([
    ['ftp://gitlab.example.org', 'gitlab.url: an https:// URL'],
    ['https://user:pw@gitlab.example.org', 'gitlab.url: no credentials in the URL'],
    ['https://gitlab.example.org/?private_token=x', 'gitlab.url: no query or fragment'],
    ['gitlab.example.org', 'gitlab.url: not a URL'],
  ])('refuses gitlab.url %s', (url, message) => {
    expect(issues(withGitlab({ url })).join('; ')).toContain(message);
  });

  it('takes secret variables only as SCIOPS_SECRET_*, config variables only as SCIOPS_CONFIG_*', () => {
    expect(issues({ ...base, secrets: [{ name: 'k', env: 'GITLAB_TOKEN' }] })).toEqual([
      "secrets[0].env: GITLAB_TOKEN is not a variable stacks may read: the manager's worker gives a secret only variables named SCIOPS_SECRET_* (set SCIOPS_SECRET_GITLAB_TOKEN on it and name that)",
    ]);
    expect(issues({ ...base, configs: [{ name: 'c', env: 'SCIOPS_SECRET_DB_PASSWORD' }] })).toEqual([
      "configs[0].env: SCIOPS_SECRET_DB_PASSWORD is not a variable stacks may read: the manager's worker gives a config only variables named SCIOPS_CONFIG_* (set SCIOPS_CONFIG_DB_PASSWORD on it and name that)",
    ]);
    // The prefix alone, or a setting that happens to start with it, is not a source.
    expect(issues({ ...base, secrets: [{ name: 'a', env: 'SCIOPS_SECRET_' }] })).toHaveLength(1);
    expect(issues({ ...base, secrets: [{ name: 'b', env: 'SCIOPS_SECRET_FILE_ROOTS' }] })).toHaveLength(1);
    expect(
      issues({ ...base, secrets: [{ name: 'k', env: 'SCIOPS_SECRET_DB' }], configs: [{ name: 'c', env: 'SCIOPS_CONFIG_APP' }] }),
    ).toEqual([]);
  });

  it('refuses a file path with ..', () => {
    expect(issues({ ...base, secrets: [{ name: 'k', file: '/srv/stacks/../../run/secrets/codec_keys' }] })).toEqual([
      'secrets[0].file: an absolute path without ".." segments',
    ]);
  });
});

describe('the GitLab origins of the worker', () => {
  const lab = policy({ gitlabOrigins: ['https://gitlab.example.org', 'http://127.0.0.1:8929'] });

  it('sends the token only to a listed origin, whatever path the stack adds', () => {
    expect(gitlabRefusal({ url: 'https://gitlab.example.org/sub/dir', tokenEnv: 'SCIOPS_GITLAB_TOKEN' }, lab)).toBeUndefined();
    expect(gitlabRefusal({ url: 'http://127.0.0.1:8929', tokenEnv: 'SCIOPS_GITLAB_TOKEN' }, lab)).toBeUndefined();
    expect(gitlabRefusal({ url: 'https://gitlab.example.org:8443', tokenEnv: 'SCIOPS_GITLAB_TOKEN' }, lab)).toBe(
      "gitlab.url: https://gitlab.example.org:8443 is not in SCIOPS_GITLAB_URLS (https://gitlab.example.org, http://127.0.0.1:8929) on the manager's worker: add it there if that is your GitLab, or correct the URL",
    );
    expect(gitlabRefusal({ url: 'https://gitlab.example.org', tokenEnv: 'AWS_SECRET_ACCESS_KEY' }, lab)).toMatch(/^gitlab\.tokenEnv: /);
    expect(gitlabRefusal({ url: 'http://attacker.example', tokenEnv: 'SCIOPS_GITLAB_TOKEN' }, lab)).toMatch(/^gitlab\.url: http would/);
    expect(gitlabRefusal({ url: 'https://gitlab.example.org', tokenEnv: 'SCIOPS_GITLAB_TOKEN' }, DEFAULT_STACK_SOURCE_POLICY)).toMatch(
      /is not in SCIOPS_GITLAB_URLS \(none set\)/,
    );
  });

  it('reads SCIOPS_GITLAB_URLS as origins: https, or http on loopback, no path', () => {
    expect(readStackSourcePolicy({ SCIOPS_GITLAB_URLS: ' https://GitLab.example.org/ , http://localhost:8929' }).gitlabOrigins).toEqual([
      'https://gitlab.example.org',
      'http://localhost:8929',
    ]);
    const bad = (value: string) => () => readStackSourcePolicy({ SCIOPS_GITLAB_URLS: value });
    expect(bad('http://10.0.0.5:8929')).toThrow(ConfigError);
    expect(bad('http://10.0.0.5:8929')).toThrow('SCIOPS_GITLAB_URLS: http://10.0.0.5:8929: http would send the access token in clear');
    expect(bad('https://gitlab.example.org/gitlab')).toThrow('list the origin only (https://gitlab.example.org)');
    expect(bad('gitlab.example.org')).toThrow('SCIOPS_GITLAB_URLS: "gitlab.example.org" is not a URL');
  });
});

describe('secret and config files', () => {
  const roots = policy({
    fileRoots: { secret: ['/srv/stacks'], config: ['/srv/configs'], migration: [] },
    protectedPaths: ['/srv/stacks/.sciops/secrets', '/run/secrets/codec_keys'],
  });

  it('are read under the kind’s roots only, as written and with symlinks resolved', () => {
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/srv/stacks/omics/db.txt', roots)).toBeUndefined();
    expect(fileSourceRefusal('config', 'configs[0].file', '/srv/stacks/omics/app.ini', roots)).toBe(
      "configs[0].file: /srv/stacks/omics/app.ini is not under SCIOPS_CONFIG_FILE_ROOTS (/srv/configs) on the manager's worker: put the file there, or add its directory to SCIOPS_CONFIG_FILE_ROOTS",
    );
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/run/secrets/aws', roots)).toMatch(/is not under SCIOPS_SECRET_FILE_ROOTS/);
    const escaping = (p: string) => (p === '/srv/stacks/omics/link' ? '/etc/shadow' : p);
    expect(fileSourceRefusal('secret', 'secrets[1].file', '/srv/stacks/omics/link', roots, escaping)).toBe(
      "secrets[1].file: /srv/stacks/omics/link (it resolves to /etc/shadow) is not under SCIOPS_SECRET_FILE_ROOTS (/srv/stacks) on the manager's worker: put the file there, or add its directory to SCIOPS_SECRET_FILE_ROOTS",
    );
  });

  it("never reads sciops' own secrets and keys, even under a root or through a symlink", () => {
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/srv/stacks/.sciops/secrets/omics_pw', roots)).toBe(
      'secrets[0].file: /srv/stacks/.sciops/secrets/omics_pw is never read for a stack: it reaches /srv/stacks/.sciops/secrets, which sciops keeps to itself',
    );
    const toKeys = (p: string) => (p === '/srv/stacks/keys' ? '/run/secrets/codec_keys' : p);
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/srv/stacks/keys', roots, toKeys)).toMatch(/is never read for a stack/);
  });

  it('without roots, names the setting to set', () => {
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/run/secrets/codec_keys', DEFAULT_STACK_SOURCE_POLICY)).toBe(
      "secrets[0].file: the manager's worker reads no secret files: set SCIOPS_SECRET_FILE_ROOTS on it to the directories (comma-separated) that hold the stacks' secret files",
    );
    // A migration's file is read by the db worker, under its own setting (review p1: /etc/shadow).
    expect(fileSourceRefusal('migration', 'migrations.001.file', '/etc/shadow', DEFAULT_STACK_SOURCE_POLICY)).toBe(
      "migrations.001.file: the db worker reads no migration files: set SCIOPS_MIGRATION_FILE_ROOTS on it to the directories (comma-separated) that hold the stacks' migration files",
    );
    const migrations = readStackSourcePolicy({ SCIOPS_MIGRATION_FILE_ROOTS: '/srv/migrations' }, ['/srv/migrations/.keys']);
    expect(fileSourceRefusal('migration', 'migrations.001.file', '/srv/migrations/omics/001.sql', migrations)).toBeUndefined();
    expect(fileSourceRefusal('migration', 'migrations.001.file', '/srv/migrations/.keys/k', migrations)).toMatch(
      /is never read for a stack/,
    );
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/srv/migrations/omics/001.sql', migrations)).toMatch(/reads no secret files/);
  });

  it('the check names every refused source and which objects it refuses', () => {
    const check = checkSources(
      {
        secrets: [
          { name: 'ok', file: '/srv/stacks/a' },
          { name: 'out', file: '/etc/passwd' },
          { name: 'aws', env: 'AWS_SECRET_ACCESS_KEY' },
        ],
        configs: [{ name: 'app', file: '/srv/configs/app.ini' }],
        gitlab: { url: 'https://gitlab.example.org', tokenEnv: 'SCIOPS_GITLAB_TOKEN' },
      },
      roots,
    );
    expect(check.refused).toEqual({ secrets: ['out', 'aws'], configs: [], gitlab: true });
    expect(check.problems.map((p) => p.slice(0, p.indexOf(':')))).toEqual(['secrets[1].file', 'secrets[2].env', 'gitlab.url']);
  });

  it('roots are absolute, not /, and a typo stops the worker naming the setting', () => {
    expect(readStackSourcePolicy({ SCIOPS_SECRET_FILE_ROOTS: '/srv/stacks/, /srv//more' }).fileRoots.secret).toEqual([
      '/srv/stacks',
      '/srv/more',
    ]);
    expect(() => readStackSourcePolicy({ SCIOPS_CONFIG_FILE_ROOTS: 'stacks' })).toThrow(
      'SCIOPS_CONFIG_FILE_ROOTS: "stacks" is not an absolute path',
    );
    expect(() => readStackSourcePolicy({ SCIOPS_SECRET_FILE_ROOTS: '/' })).toThrow('SCIOPS_SECRET_FILE_ROOTS: / would let a stack read');
  });

  it("the worker's configuration protects its generated secrets, keys, tokens and registry credentials", () => {
    const config = readConfig({
      SCIOPS_SECRETS_DIR: '/var/lib/sciops/secrets',
      SCIOPS_CODEC_KEYS_FILE: '/run/secrets/codec_keys',
      HOME: '/root',
      SCIOPS_SECRET_FILE_ROOTS: '/run/secrets',
    });
    expect(config.stackSources.protectedPaths).toEqual(['/var/lib/sciops/secrets', '/run/secrets/codec_keys', '/root/.docker']);
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/run/secrets/codec_keys', config.stackSources)).toMatch(/never read/);
    expect(fileSourceRefusal('secret', 'secrets[0].file', '/run/secrets/db_password', config.stackSources)).toBeUndefined();
  });
});
