import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { refuseForeign } from '../../activities/docker/stack-ownership';
import { readSpecFile } from '../../clients/spec-file';
import { InputError } from '../../common/errors';
import { canonicalJson, fingerprint } from '../../common/fingerprint';
import { inCidr, isCidr, type StackSpec, stackSpecSchema } from '../../common/stack';
import { type PlanInputs, planStack } from '../../common/stack-plan';
import { serviceRequest, volumeRequest } from '../../common/stack-resources';
import { type SwarmView, swarmActions } from '../../common/stack-swarm';
import { parseInput } from '../../common/validate';

const root = path.resolve(__dirname, '../..');
const parse = (v: unknown) => parseInput(stackSpecSchema, v, 'stack spec');
const base = {
  name: 'omics',
  volumes: [{ name: 'data', node: 'n1' }],
  services: [{ name: 'web', image: 'img:1', volumes: [{ source: 'data', target: '/d' }] }],
};
/** A swarm whose manager is the first node named. */
const view = (...names: string[]): SwarmView => ({
  self: names[0] as string,
  active: true,
  nodes: names.map((name) => ({ name, labels: {} })),
});
const placed = (s: StackSpec) => ({ ...s, volumes: s.volumes.map((v) => ({ ...v, node: v.node ?? 'n1' })) });
/** What the activities found: the swarm, its objects, nothing external missing, every path there. */
const found = (swarm: SwarmView, observed: PlanInputs['observed'] = [], more: Partial<PlanInputs> = {}): PlanInputs => ({
  swarm,
  observed,
  secrets: {},
  configs: {},
  externals: { missing: [], secrets: {}, configs: {} },
  missingPaths: [],
  ...more,
});

describe('stack spec', () => {
  it('checks CIDR blocks and gateways', () => {
    expect(isCidr('10.20.0.0/24')).toBe(true);
    expect(isCidr('10.20.0.5/24')).toBe(false);
    expect(isCidr('10.20.0.0/33')).toBe(false);
    expect(isCidr('300.1.1.0/24')).toBe(false);
    expect(inCidr('10.20.0.1', '10.20.0.0/24')).toBe(true);
    expect(inCidr('10.20.1.1', '10.20.0.0/24')).toBe(false);
    expect(() => parse({ ...base, networks: [{ name: 'n', ipam: { config: [{ subnet: '10.1.0.0/24', gateway: '10.2.0.1' }] } }] })).toThrow(
      'networks[0].ipam.config[0].gateway: 10.2.0.1 is not inside subnet 10.1.0.0/24',
    );
  });

  it.each([
    [
      { ...base, services: [{ name: 'web', image: 'i', volumes: [{ source: 'nope', target: '/d' }] }] },
      'services[0].volumes[0].source: no volume "nope"',
    ],
    [{ ...base, volumes: [{ name: 'a' }, { name: 'a' }] }, 'volumes[1].name: "a" is defined twice'],
    // Review p1: what the engine would take wrongly or not at all.
    [{ ...base, services: [{ name: 'web', image: ' ' }] }, 'services[0].image: name an image (no spaces)'],
    [
      { ...base, services: [{ name: 'web', image: 'i', resources: { limits: { cpus: 1e300 } } }] },
      'services[0].resources.limits.cpus: at most 4096 CPUs',
    ],
    [
      { ...base, secrets: [{ name: 's', generate: { alphabet: 'aaaaaaaaaa' } }] },
      'secrets[0].generate.alphabet: at least 10 distinct characters',
    ],
    [
      { ...base, secrets: [{ name: 's', generate: { alphabet: '0123456789\ud800' } }] },
      'secrets[0].generate.alphabet: printable ASCII characters only',
    ],
    [{ ...base, secrets: [{ name: 's' }] }, 'secrets[0]: give exactly one of generate, file, env'],
    [{ ...base, secrets: [{ name: 's', generate: {}, env: 'X' }] }, 'secrets[0]: give exactly one of generate, file, env'],
    [
      { ...base, secrets: [{ name: 's', external: true, env: 'X' }] },
      'secrets[0].external: an external secret has no generate, file or env',
    ],
    [{ ...base, services: [{ name: 'web', image: 'i', secrets: ['nope'] }] }, 'services[0].secrets[0]: no secret "nope" in secrets'],
    [
      { ...base, services: [{ name: 'web', image: 'i', configs: [{ source: 'nope' }] }] },
      'services[0].configs[0]: no config "nope" in configs',
    ],
    [
      { ...base, services: [{ name: 'web', image: 'i', mode: 'global', replicas: 2 }] },
      'services[0].replicas: a global service runs one task per node',
    ],
    [
      { ...base, services: [{ name: 'web', image: 'i', volumes: [{ type: 'bind', source: 'rel/path', target: '/d' }] }] },
      'services[0].volumes[0].source: a bind mount needs an absolute host path',
    ],
    [
      { ...base, services: [{ name: 'web', image: 'i', healthcheck: { interval: 'often' } }] },
      'services[0].healthcheck.interval: a duration such as 10s',
    ],
    [{ ...base, name: 'Omics' }, 'name: a stack name'],
    // Names meet across stacks when a stack's name holds the separator: omics + db_data = omics_db + data.
    [{ ...base, name: 'omics_db' }, 'name: a stack name: lower-case letters, digits and -'],
    [
      { ...base, services: [{ name: 'web', image: 'i', labels: { 'sciops.replicas-before-pause': '9' } }] },
      "sciops.* labels are sciops' own",
    ],
    [
      { ...base, volumes: [{ name: 'data', labels: { 'sciops.stack': 'other' } }] },
      "volumes[0].labels.sciops.stack: sciops.* labels are sciops' own",
    ],
    [
      { ...base, swarm: { advertiseAddr: '10.0.0.1', nodes: [{ name: 'n2' }, { name: 'n2' }] } },
      'swarm.nodes[1].name: "n2" is listed twice',
    ],
    [{ ...base, swarm: { advertiseAddr: '10.0.0.300' } }, 'swarm.advertiseAddr: not an IPv4 address'],
    [{ ...base, swarm: { advertiseAddr: '10.0.0.1', dataPathPort: 80 } }, 'swarm.dataPathPort'],
    [{ ...base, runners: [{ name: 'ci', service: 'web', executor: 'shell' }] }, 'gitlab: runners need gitlab: { url, tokenEnv }'],
    [
      { ...base, gitlab: { url: 'http://gitlab' }, runners: [{ name: 'ci', service: 'nope', executor: 'shell' }] },
      'runners[0].service: no service "nope" in services',
    ],
    [
      { ...base, gitlab: { url: 'http://gitlab' }, runners: [{ name: 'ci', service: 'web' }] },
      'runners[0].dockerImage: the docker executor needs a default job image',
    ],
    [
      { ...base, gitlab: { url: 'http://gitlab' }, runners: [{ name: 'ci', service: 'web', executor: 'shell', type: 'group_type' }] },
      'runners[0].groupId: a group runner needs groupId',
    ],
  ])('rejects %j naming the field', (spec, message) => {
    expect(() => parse(spec)).toThrow(InputError);
    expect(() => parse(spec)).toThrow(message);
  });

  it.each(['omics-platform.yaml', 'neuroimaging-data.yaml'])('examples/stacks/%s is a valid stack', (file) => {
    const spec = parse(readSpecFile(path.join(root, 'examples/stacks', file)));
    expect(spec.services.length).toBeGreaterThan(0);
  });

  it('the neuro-imaging example runs its GitLab runner on the second node, placed by the label it gives that node', () => {
    const spec = parse(readSpecFile(path.join(root, 'examples/stacks/neuroimaging-data.yaml')));
    const runner = spec.services.find((s) => s.name === spec.runners[0]?.service);
    expect(runner?.constraints).toEqual(['node.labels.imaging==true']);
    expect(spec.swarm?.nodes).toEqual([{ name: 'sciops-node2', advertiseAddr: '10.213.0.2', labels: { imaging: 'true' } }]);
  });

  it('the omics example has the seven named volumes the runbook creates', () => {
    expect(parse(readSpecFile(path.join(root, 'examples/stacks/omics-platform.yaml'))).volumes).toHaveLength(7);
    expect(readFileSync(path.join(root, 'examples/stacks/omics-platform.yaml'), 'utf8')).toContain('attachable: true');
  });
});

describe('planStack', () => {
  const spec = placed(parse(base));

  it('creates what is missing, leaves what matches, updates a changed service', () => {
    const volume = volumeRequest('omics', spec.volumes[0]);
    const service = serviceRequest('omics', spec.services[0], { volumes: spec.volumes, networks: [], secrets: {}, configs: {} });
    const fresh = planStack(spec, found(view('n1')));
    expect(fresh.changes.map((c) => c.change)).toEqual(['create', 'create']);
    const same = planStack(
      spec,
      found(view('n1'), [
        { kind: 'volume', name: 'omics_data', node: 'n1', hash: volume.Labels['sciops.spec-hash'] },
        { kind: 'service', name: 'omics_web', hash: service.Labels['sciops.spec-hash'], spec: service },
      ]),
    );
    expect(same).toMatchObject({
      problems: [],
      changes: [expect.objectContaining({ change: 'unchanged' }), expect.objectContaining({ change: 'unchanged' })],
    });
    const changed = planStack(spec, found(view('n1'), [{ kind: 'service', name: 'omics_web', hash: 'other', spec: service }]));
    expect(changed.changes[1]).toMatchObject({ kind: 'service', change: 'update' });
  });

  it('refuses a volume on an unknown node, or one whose options changed, before anything is touched', () => {
    expect(planStack(spec, found(view('n2'))).problems).toEqual(['volumes[0].node: no node "n1" in the swarm (nodes: n2)']);
    expect(planStack(spec, found(view('n1'), [{ kind: 'volume', name: 'omics_data', node: 'n1', hash: 'x' }])).problems[0]).toContain(
      'exists with other options',
    );
  });
});

describe('swarmActions', () => {
  const swarm = parse({
    ...base,
    swarm: {
      advertiseAddr: '10.0.0.1',
      nodes: [
        { name: 'n1', labels: { db: 'true' } },
        { name: 'gpu-1', labels: { gpu: 'true' } },
      ],
    },
  }).swarm;

  it('refuses an engine in no swarm when the stack has no swarm section', () => {
    const actions = swarmActions(undefined, { self: 'n1', active: false, nodes: [] });
    expect(actions.init).toBe(false);
    expect(actions.problems).toEqual([
      expect.stringMatching(/^swarm: the manager's engine \(n1\) is in no swarm; add swarm: \{ advertiseAddr \}/),
    ]);
  });

  it('inits, joins the missing nodes (never the manager itself) and labels them', () => {
    const actions = swarmActions(swarm, { self: 'n1', active: false, nodes: [] });
    expect(actions.init).toBe(true);
    expect(actions.join.map((n) => n.name)).toEqual(['gpu-1']);
    expect(actions.label.map((n) => n.name)).toEqual(['n1', 'gpu-1']);
    expect(actions.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'swarm n1 create',
      'node n1 update',
      'node gpu-1 create',
    ]);
    expect(actions.nodes).toEqual(['n1', 'gpu-1']);
  });

  it('leaves a labelled member alone, keeps labels the spec does not name, and refuses another data path port', () => {
    const live: SwarmView = {
      self: 'n1',
      active: true,
      dataPathPort: 4789,
      nodes: [
        { name: 'n1', labels: { db: 'true', rack: 'a' } },
        { name: 'gpu-1', labels: { gpu: 'false' } },
      ],
    };
    const actions = swarmActions(swarm, live);
    expect(actions.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'swarm n1 unchanged',
      'node n1 unchanged',
      'node gpu-1 update',
    ]);
    expect(actions.problems).toEqual([]);
    expect(swarmActions({ ...(swarm as NonNullable<typeof swarm>), dataPathPort: 7789 }, live).problems).toEqual([
      'swarm.dataPathPort: the swarm uses 4789; it is fixed when a swarm is created (leave it out, or re-create the swarm)',
    ]);
  });

  it('lets a stack place a volume on a node it joins', () => {
    const spec = placed(
      parse({ ...base, volumes: [{ name: 'data', node: 'gpu-1' }], swarm: { advertiseAddr: '10.0.0.1', nodes: [{ name: 'gpu-1' }] } }),
    );
    const plan = planStack(spec, found(view('n1')));
    expect(plan.problems).toEqual([]);
    expect(plan.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
      'swarm n1 unchanged',
      'node gpu-1 create',
      'volume data create',
      'service web create',
    ]);
  });
});

describe('fingerprint', () => {
  it('ignores key order and changes with any value', () => {
    expect(fingerprint({ a: 1, b: [1, 2] })).toBe(fingerprint({ b: [1, 2], a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });
});

describe('refuseForeign', () => {
  it("never adopts another sciops stack's object; takes over one no sciops stack made", () => {
    const ours = { 'sciops.stack': 'omics' };
    expect(() => refuseForeign('volume', 'omics_db_data', { 'sciops.stack': 'omics-db' }, ours)).toThrow(
      'volume omics_db_data belongs to stack omics-db, not omics',
    );
    expect(() => refuseForeign('service', 'omics_web', { 'com.docker.stack.namespace': 'omics' }, ours)).not.toThrow();
    expect(() => refuseForeign('service', 'omics_web', ours, ours)).not.toThrow();
    expect(() => refuseForeign('network', 'omics_net', undefined, ours)).not.toThrow();
  });
});
