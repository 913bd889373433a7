import { describe, expect, it } from 'vitest';
import { type StackSpec, stackSpecSchema } from '../../common/stack';
import { convergenceWait, STABLE_SECONDS } from '../../common/stack-waits';
import { parseInput } from '../../common/validate';

const service = (extra: Record<string, unknown>): StackSpec['services'][number] =>
  parseInput(stackSpecSchema, { name: 'omics', services: [{ name: 'web', image: 'nginx:1', ...extra }] }, 'stack spec')
    .services[0] as StackSpec['services'][number];

describe('convergenceWait', () => {
  it('asks a service without a healthcheck to run for 5 s, as docker does', () => {
    expect(convergenceWait(service({}), true)).toEqual({ finishes: false, stableSeconds: STABLE_SECONDS });
    expect(STABLE_SECONDS).toBe(5);
  });

  it("takes the service's update.monitor as the window, and a monitor of 0 as none set", () => {
    expect(convergenceWait(service({ update: { monitor: '1500ms' } }), true).stableSeconds).toBe(1.5);
    expect(convergenceWait(service({ update: { monitor: '1m' } }), false).stableSeconds).toBe(60);
    expect(convergenceWait(service({ update: { monitor: '0s' } }), true).stableSeconds).toBe(STABLE_SECONDS);
  });

  it('does not wait further for a healthy task, unless the healthcheck is disabled', () => {
    const test = { test: ['CMD', 'true'] };
    expect(convergenceWait(service({ healthcheck: test, update: { monitor: '30s' } }), true).stableSeconds).toBe(0);
    expect(convergenceWait(service({ healthcheck: { disable: true } }), true).stableSeconds).toBe(STABLE_SECONDS);
  });

  it('lets a new one-shot service count once complete, but an updated one must last', () => {
    const oneShot = service({ restartPolicy: { condition: 'none' } });
    expect(convergenceWait(oneShot, true)).toEqual({ finishes: true, stableSeconds: 0 });
    expect(convergenceWait(oneShot, false)).toEqual({ finishes: true, stableSeconds: STABLE_SECONDS });
    expect(convergenceWait(service({ restartPolicy: { condition: 'any' } }), true).finishes).toBe(false);
  });
});
