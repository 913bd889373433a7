import { describe, expect, it } from 'vitest';
import { containerOptions, serviceSpec } from '../../activities/docker/experiment-specs';
import { readConfig } from '../../common/config';
import { ConfigError, InputError } from '../../common/errors';
import { experimentSpecSchema } from '../../common/experiment';
import {
  DEFAULT_EXPERIMENT_POLICY,
  type ExperimentPolicy,
  experimentOutputDir,
  neverBound,
  normalPath,
  policyRefusals,
  readExperimentPolicy,
} from '../../common/experiment-policy';
import { parseInput } from '../../common/validate';

const parse = (value: unknown) => parseInput(experimentSpecSchema, value, 'experiment spec');
const minimal = { id: 'exp-1', type: 'inference', image: 'local/busybox:1' };
const DIR = '/var/lib/sciops/experiments';
const bind = (source: string) => ({ type: 'bind' as const, source, target: '/data' });
const check = (spec: Record<string, unknown>, policy: Partial<ExperimentPolicy> = {}, realPaths?: Map<string, string>) =>
  policyRefusals({ ...minimal, backend: 'docker', mounts: [], ...spec } as Parameters<typeof policyRefusals>[0], {
    policy: { ...DEFAULT_EXPERIMENT_POLICY, ...policy },
    experimentsDir: DIR,
    realPaths,
  });

describe('the experiment policy (what the docker worker lets a spec mount)', () => {
  it('by default allows nothing but the experiment’s own output directory', () => {
    expect(check({ mounts: [bind(`${DIR}/exp-1`), bind(`${DIR}/exp-1/work`)] })).toEqual([]);
    expect(check({ mounts: [bind(`${DIR}/exp-2`)] })).toEqual([
      `mounts[0].source: a bind of ${DIR}/exp-2 is not under the experiment's output directory (${DIR}/exp-1) nor under SCIOPS_EXPERIMENT_BIND_ROOTS (none set) on the docker worker`,
    ]);
    expect(check({ mounts: [{ type: 'volume', source: 'omics_db-data' }] })).toEqual([
      'mounts[0].source: volume omics_db-data is not in SCIOPS_EXPERIMENT_VOLUMES (none set) on the docker worker',
    ]);
  });

  it('refuses a bind of / or of the Docker socket whatever the roots, naming SCIOPS_EXPERIMENT_BIND_ROOTS', () => {
    for (const source of ['/', '/var/run/docker.sock', '/var', '/etc/cron.d', '/proc/1']) {
      const [refusal] = check({ mounts: [bind(source)] }, { bindRoots: ['/srv'] });
      expect(refusal, source).toMatch(
        /^mounts\[0\]\.source: a bind of \S+ is never allowed \(.+\), whatever SCIOPS_EXPERIMENT_BIND_ROOTS says$/,
      );
    }
    // A symlink under an allowed root that leads out of it is refused by where it leads.
    const real = new Map([['/srv/data/sock', '/var/run/docker.sock']]);
    expect(check({ mounts: [bind('/srv/data/sock')] }, { bindRoots: ['/srv/data'] }, real)[0]).toContain(
      '(it resolves to /var/run/docker.sock) is never allowed',
    );
    const outside = new Map([['/srv/data/up', '/home/alice']]);
    expect(check({ mounts: [bind('/srv/data/up')] }, { bindRoots: ['/srv/data'] }, outside)[0]).toMatch(
      /\(it resolves to \/home\/alice\) is not under .* SCIOPS_EXPERIMENT_BIND_ROOTS \(\/srv\/data\)/,
    );
  });

  it('allows binds under a configured root and volumes of the allow list; protected paths stay out', () => {
    const policy = { bindRoots: ['/srv/data'], volumes: ['training-data', 'scratch-*'], protectedPaths: ['/srv/data/sciops/secrets'] };
    expect(check({ mounts: [bind('/srv/data/proteomics'), { type: 'volume', source: 'scratch-7' }] }, policy)).toEqual([]);
    expect(check({ mounts: [{ type: 'volume', source: 'training-data' }] }, policy)).toEqual([]);
    expect(check({ mounts: [bind('/srv/database')] }, policy)[0]).toContain('SCIOPS_EXPERIMENT_BIND_ROOTS (/srv/data)');
    expect(check({ mounts: [bind('/srv/data')] }, policy)[0]).toMatch(/reaches \/srv\/data\/sciops\/secrets, which sciops keeps to itself/);
  });

  it('grants only the capabilities SCIOPS_EXPERIMENT_CAPABILITIES lists', () => {
    expect(check({ capabilities: ['NET_ADMIN'] })).toEqual([
      'capabilities: NET_ADMIN is not in SCIOPS_EXPERIMENT_CAPABILITIES (none set) on the docker worker',
    ]);
    expect(check({ capabilities: ['NET_BIND_SERVICE'] }, { capabilities: ['NET_BIND_SERVICE'] })).toEqual([]);
  });

  it('confines the output directory under the experiments directory, as written and as resolved', () => {
    const ctx = { policy: DEFAULT_EXPERIMENT_POLICY, experimentsDir: DIR };
    expect(experimentOutputDir({ id: 'exp-1' }, ctx)).toEqual({ dir: `${DIR}/exp-1` });
    expect(experimentOutputDir({ id: 'exp-1', outputDir: `${DIR}/runs/1/` }, ctx)).toEqual({ dir: `${DIR}/runs/1` });
    for (const outputDir of ['../../etc', '/etc/cron.d', `${DIR}/../secrets`, DIR, '/var/lib/sciops/experiments-other']) {
      const out = experimentOutputDir({ id: 'exp-1', outputDir }, ctx);
      expect(out, outputDir).toEqual({
        refusal: expect.stringMatching(/^outputDir: .* is not a directory under the experiments directory/),
      });
      expect('refusal' in out && out.refusal).toContain('(SCIOPS_EXPERIMENTS_DIR)');
    }
    // An id that is not one (an activity's input is untrusted) does not climb out either.
    expect(experimentOutputDir({ id: '../../../etc' }, ctx)).toHaveProperty('refusal');
    const linked = new Map([[`${DIR}/runs`, '/etc']]);
    expect(experimentOutputDir({ id: 'x', outputDir: `${DIR}/runs` }, { ...ctx, realPaths: linked })).toEqual({
      refusal: expect.stringContaining('(it resolves to /etc)'),
    });
  });

  it('normalises paths lexically and knows what can never be bound', () => {
    expect(normalPath('/srv//data/./x/')).toBe('/srv/data/x');
    expect(normalPath('/srv/../etc')).toBeUndefined();
    expect(normalPath('data')).toBeUndefined();
    expect(neverBound('/')).toBe("it is the host's root");
    expect(neverBound('/var/lib')).toBe('it holds /var/lib/docker');
    expect(neverBound('/run/user/1000/docker.sock')).toBe('it is under /run');
    expect(neverBound('/srv/data')).toBeUndefined();
  });
});

describe('the policy settings', () => {
  it('are read by the worker configuration, with the engine socket, secrets and keys protected', () => {
    const config = readConfig({
      SCIOPS_EXPERIMENT_BIND_ROOTS: '/srv/data, /mnt/shared/',
      SCIOPS_EXPERIMENT_VOLUMES: 'training-data,scratch-*',
      SCIOPS_EXPERIMENT_CAPABILITIES: 'cap_net_bind_service',
      SCIOPS_SECRETS_DIR: '/var/lib/sciops/secrets',
      SCIOPS_CODEC_KEYS_FILE: '/etc/sciops/codec.keys',
    });
    expect(config.experimentPolicy).toEqual({
      bindRoots: ['/srv/data', '/mnt/shared'],
      volumes: ['training-data', 'scratch-*'],
      capabilities: ['NET_BIND_SERVICE'],
      protectedPaths: ['/var/run/docker.sock', '/var/lib/sciops/secrets', '/etc/sciops/codec.keys'],
    });
    expect(readConfig({}).experimentPolicy).toMatchObject({ bindRoots: [], volumes: [], capabilities: [] });
  });

  it.each([
    [{ SCIOPS_EXPERIMENT_BIND_ROOTS: '/' }, "SCIOPS_EXPERIMENT_BIND_ROOTS: / cannot be a bind root: it is the host's root"],
    [{ SCIOPS_EXPERIMENT_BIND_ROOTS: '/var' }, 'SCIOPS_EXPERIMENT_BIND_ROOTS: /var cannot be a bind root: it holds /var/run'],
    [{ SCIOPS_EXPERIMENT_BIND_ROOTS: 'srv' }, 'SCIOPS_EXPERIMENT_BIND_ROOTS: "srv" is not an absolute path'],
    [{ SCIOPS_EXPERIMENT_VOLUMES: 'a/b' }, 'SCIOPS_EXPERIMENT_VOLUMES: "a/b" is not a volume name'],
    [{ SCIOPS_EXPERIMENT_CAPABILITIES: 'ALL' }, 'SCIOPS_EXPERIMENT_CAPABILITIES: "ALL" is not a capability name'],
  ])('a bad value %j stops the worker naming the setting', (env, message) => {
    expect(() => readExperimentPolicy(env)).toThrow(ConfigError);
    expect(() => readExperimentPolicy(env)).toThrow(message);
  });
});

describe('the spec schema refuses early what no setting can allow (CLI and workflow alike)', () => {
  it.each([
    [
      { mounts: [bind('/')] },
      "mounts[0].source: a bind of / is never allowed (it is the host's root), whatever SCIOPS_EXPERIMENT_BIND_ROOTS says",
    ],
    [
      { mounts: [bind('/var/run/docker.sock')] },
      'mounts[0].source: a bind of /var/run/docker.sock is never allowed (it is under /var/run)',
    ],
    [{ mounts: [bind('/srv/../etc')] }, 'mounts[0].source: a bind mount source may not contain ".."'],
    [{ mounts: [{ type: 'volume', source: '/etc', target: '/x' }] }, 'mounts[0].source: a volume name'],
    [{ outputDir: '../../etc' }, 'outputDir: must be an absolute path under the experiments directory (SCIOPS_EXPERIMENTS_DIR'],
    [{ outputDir: '/var/lib/sciops/experiments/../secrets' }, 'outputDir: must be an absolute path under the experiments directory'],
    [{ capabilities: ['ALL'] }, 'capabilities[0]: ALL is never granted'],
    [{ capabilities: ['cap_sys_admin'] }, 'capabilities[0]: a Linux capability without CAP_'],
  ])('%j', (extra, message) => {
    expect(() => parse({ ...minimal, ...extra })).toThrow(InputError);
    expect(() => parse({ ...minimal, ...extra })).toThrow(message);
  });
});

describe('what Docker is asked for', () => {
  const spec = parse({ ...minimal, backend: 'swarm', capabilities: ['NET_BIND_SERVICE'] });

  it('a container: no new privileges, every capability dropped, the allowed ones added back', () => {
    const plain = containerOptions(parse(minimal));
    expect(plain.HostConfig).toMatchObject({ SecurityOpt: ['no-new-privileges'], CapDrop: ['ALL'] });
    expect(plain.HostConfig?.CapAdd).toBeUndefined();
    expect(containerOptions({ ...spec, backend: 'docker' }).HostConfig?.CapAdd).toEqual(['NET_BIND_SERVICE']);
  });

  it('a swarm service: the same, as the service API spells it', () => {
    const container = (serviceSpec(spec).TaskTemplate as { ContainerSpec: Record<string, unknown> }).ContainerSpec;
    expect(container).toMatchObject({
      CapabilityDrop: ['ALL'],
      CapabilityAdd: ['NET_BIND_SERVICE'],
      Privileges: { NoNewPrivileges: true },
    });
  });
});
