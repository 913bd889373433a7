import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSpecFile } from '../../clients/spec-file';
import { InputError } from '../../common/errors';
import { canonicalJson, fingerprint } from '../../common/fingerprint';
import { inCidr, isCidr, type StackSpec, stackSpecSchema } from '../../common/stack';
import { planStack, serviceRequest, volumeRequest } from '../../common/stack-resources';
import { parseInput } from '../../common/validate';

const root = path.resolve(__dirname, '../..');
const parse = (v: unknown) => parseInput(stackSpecSchema, v, 'stack spec');
const base = {
  name: 'omics',
  volumes: [{ name: 'data', node: 'n1' }],
  services: [{ name: 'web', image: 'img:1', volumes: [{ source: 'data', target: '/d' }] }],
};
const placed = (s: StackSpec) => ({ ...s, volumes: s.volumes.map((v) => ({ ...v, node: v.node ?? 'n1' })) });

describe('stack spec', () => {
  it('checks CIDR blocks and gateways', () => {
    expect(isCidr('10.20.0.0/24')).toBe(true);
    expect(isCidr('10.20.0.5/24')).toBe(false);
    expect(isCidr('10.20.0.0/33')).toBe(false);
    expect(isCidr('300.1.1.0/24')).toBe(false);
    expect(inCidr('10.20.0.1', '10.20.0.0/24')).toBe(true);
    expect(inCidr('10.20.1.1', '10.20.0.0/24')).toBe(false);
    expect(() => parse({ ...base, networks: [{ name: 'n', subnet: '10.1.0.0/24', gateway: '10.2.0.1' }] })).toThrow(
      'networks[0].gateway: 10.2.0.1 is not inside subnet 10.1.0.0/24',
    );
  });

  it.each([
    [
      { ...base, services: [{ name: 'web', image: 'i', volumes: [{ source: 'nope', target: '/d' }] }] },
      'services[0].volumes[0].source: no volume "nope"',
    ],
    [{ ...base, volumes: [{ name: 'a' }, { name: 'a' }] }, 'volumes[1].name: "a" is defined twice'],
    [{ ...base, secrets: [{ name: 's' }] }, 'secrets[0]: give exactly one of generate, file, env'],
    [{ ...base, secrets: [{ name: 's', generate: {}, env: 'X' }] }, 'secrets[0]: give exactly one of generate, file, env'],
    [{ ...base, name: 'Omics' }, 'name: a stack name'],
  ])('rejects %j naming the field', (spec, message) => {
    expect(() => parse(spec)).toThrow(InputError);
    expect(() => parse(spec)).toThrow(message);
  });

  it.each(['omics-platform.yaml', 'neuroimaging-data.yaml'])('examples/stacks/%s is a valid stack', (file) => {
    const spec = parse(readSpecFile(path.join(root, 'examples/stacks', file)));
    expect(spec.services.length).toBeGreaterThan(0);
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
    const service = serviceRequest('omics', spec.services[0], {});
    const fresh = planStack(spec, ['n1'], []);
    expect(fresh.changes.map((c) => c.change)).toEqual(['create', 'create']);
    const same = planStack(
      spec,
      ['n1'],
      [
        { kind: 'volume', name: 'omics_data', node: 'n1', hash: volume.Labels['sciops.spec-hash'] },
        { kind: 'service', name: 'omics_web', hash: service.Labels['sciops.spec-hash'] },
      ],
    );
    expect(same).toEqual({
      problems: [],
      changes: [expect.objectContaining({ change: 'unchanged' }), expect.objectContaining({ change: 'unchanged' })],
    });
    const changed = planStack(spec, ['n1'], [{ kind: 'service', name: 'omics_web', hash: 'other' }]);
    expect(changed.changes[1]).toMatchObject({ kind: 'service', change: 'update' });
  });

  it('refuses a volume on an unknown node, or one whose options changed, before anything is touched', () => {
    expect(planStack(spec, ['n2'], []).problems).toEqual(['volumes[0].node: no node "n1" in the swarm (nodes: n2)']);
    expect(planStack(spec, ['n1'], [{ kind: 'volume', name: 'omics_data', node: 'n1', hash: 'x' }]).problems[0]).toContain(
      'exists with other options',
    );
  });
});

describe('fingerprint', () => {
  it('ignores key order and changes with any value', () => {
    expect(fingerprint({ a: 1, b: [1, 2] })).toBe(fingerprint({ b: [1, 2], a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });
});
