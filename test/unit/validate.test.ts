import { describe, expect, it } from 'vitest';
import { doctorInputSchema } from '../../common/doctor';
import { InputError } from '../../common/errors';
import { fieldPath, parseInput } from '../../common/validate';

function issues(value: unknown): readonly string[] {
  try {
    parseInput(doctorInputSchema, value, 'doctor input');
  } catch (err) {
    if (err instanceof InputError) return err.issues;
    throw err;
  }
  throw new Error('accepted');
}

describe('parseInput', () => {
  it('fills defaults', () => {
    expect(parseInput(doctorInputSchema, undefined, 'doctor input')).toEqual({ nodes: [], waitSeconds: 15 });
    expect(parseInput(doctorInputSchema, { nodes: ['n2'] }, 'doctor input')).toEqual({ nodes: ['n2'], waitSeconds: 15 });
  });

  it('names each bad field, unknown fields included', () => {
    expect(issues({ nodes: ['ok', 'no way'], waitSeconds: 1.5, extra: 1 })).toEqual([
      'nodes[1]: not a node name: use the hostname `docker node ls` shows',
      'waitSeconds: Invalid input: expected int, received number',
      'extra: unknown field; remove it or check its spelling',
    ]);
  });

  it('says what was invalid in the message', () => {
    expect(() => parseInput(doctorInputSchema, { waitSeconds: 'soon' }, 'doctor input')).toThrow(
      'invalid doctor input: waitSeconds: Invalid input: expected number, received string',
    );
  });
});

describe('fieldPath', () => {
  it('renders paths the way an operator writes them', () => {
    expect(fieldPath(['services', 2, 'image'])).toBe('services[2].image');
    expect(fieldPath([])).toBe('(input)');
  });
});
