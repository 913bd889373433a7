import { describe, expect, it } from 'vitest';
import { type StackSpec, stackSpecSchema } from '../../common/stack';
import { convergenceWait, STABLE_SECONDS } from '../../common/stack-waits';
import { parseInput } from '../../common/validate';

const service = (extra: Record<string, unknown>): StackSpec['services'][number] =>
  parseInput(stackSpecSchema, { name: 'omics', services: [{ name: 'web', image: 'nginx:1', ...extra }] }, 'stack spec')
    .services[0] as StackSpec['services'][number];

describe('convergenceWait', () => {
  it('counts a running task at once when the service sets no update.monitor, as docker service ls does', () => {
    expect(convergenceWait(service({}), true)).toEqual({ finishes: false, stableSeconds: 0 });
    expect(convergenceWait(service({}), false)).toEqual({ finishes: false, stableSeconds: 0 });
    expect(convergenceWait(service({ update: { monitor: '0s' } }), true).stableSeconds).toBe(0);
  });

  it('makes the tasks of a service that sets update.monitor run that long first', () => {
    expect(convergenceWait(service({ update: { monitor: '1500ms' } }), true).stableSeconds).toBe(1.5);
    expect(convergenceWait(service({ update: { monitor: '1m' } }), false).stableSeconds).toBe(60);
    expect(convergenceWait(service({ healthcheck: { disable: true }, update: { monitor: '2s' } }), true).stableSeconds).toBe(2);
  });

  it('does not wait further for a healthy task, whatever its monitor', () => {
    const test = { test: ['CMD', 'true'] };
    expect(convergenceWait(service({ healthcheck: test, update: { monitor: '30s' } }), true).stableSeconds).toBe(0);
  });

  it('lets a new one-shot service count once complete, but an updated one must last', () => {
    const oneShot = service({ restartPolicy: { condition: 'none' } });
    expect(convergenceWait(oneShot, true)).toEqual({ finishes: true, stableSeconds: 0 });
    expect(convergenceWait(oneShot, false)).toEqual({ finishes: true, stableSeconds: STABLE_SECONDS });
    expect(STABLE_SECONDS).toBe(5);
    const test = { test: ['CMD', 'true'] };
    expect(convergenceWait(service({ restartPolicy: { condition: 'none' }, update: { monitor: '1m' } }), false).stableSeconds).toBe(60);
    expect(convergenceWait(service({ restartPolicy: { condition: 'none' }, healthcheck: test }), false).stableSeconds).toBe(0);
    expect(convergenceWait(service({ restartPolicy: { condition: 'on-failure' }, update: { monitor: '1m' } }), true).stableSeconds).toBe(0);
    expect(convergenceWait(service({ restartPolicy: { condition: 'any' } }), true).finishes).toBe(false);
  });
});
