import { describe, expect, it } from 'vitest';
import { InputError } from '../../common/errors';
import { stackSpecSchema } from '../../common/stack';
import { parseInput } from '../../common/validate';

// Review H4c: an exec step or a runner in a service scaled to 0 waited forever for a task that never comes.
const stack = (replicas: number, extra: Record<string, unknown>) => ({
  name: 'omics',
  services: [{ name: 'web', image: 'img:1', replicas }],
  ...extra,
});
const exec = { migrations: [{ name: '001_admin', exec: { service: 'web', command: ['true'], unless: ['false'] } }] };
const runner = { gitlab: { url: 'https://gitlab.example.org' }, runners: [{ name: 'ci', service: 'web', executor: 'shell' }] };

function issues(spec: unknown): readonly string[] {
  try {
    parseInput(stackSpecSchema, spec, 'stack spec');
  } catch (err) {
    if (err instanceof InputError) return err.issues;
    throw err;
  }
  return [];
}

describe('a step or runner needs a task of its service', () => {
  it('refuses an exec migration into a service with replicas: 0, naming the field and the fix', () => {
    expect(issues(stack(0, exec))).toContain(
      'migrations[0].exec.service: service "web" has replicas: 0, so there is no task the step runs in: give it replicas: 1 or more',
    );
    expect(issues(stack(1, exec))).toEqual([]);
  });

  it('refuses a runner in a service with replicas: 0', () => {
    expect(issues(stack(0, runner))).toContain(
      'runners[0].service: service "web" has replicas: 0, so there is no task the runner registers in: give it replicas: 1 or more',
    );
    expect(issues(stack(2, runner)).filter((i) => i.startsWith('runners[0].service'))).toEqual([]);
  });
});
