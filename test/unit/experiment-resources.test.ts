import { describe, expect, it } from 'vitest';
import { experimentSpecSchema } from '../../common/experiment';

// Review H4c: memoryMb beyond an int64 of bytes was refused by Docker (HTTP 500) on every retry.
const spec = (memoryMb: number) => ({ id: 'e1', type: 'inference', image: 'img:1', resources: { memoryMb } });

describe('experiment resources', () => {
  it('refuses a memory limit Docker cannot take, naming the field', () => {
    const result = experimentSpecSchema.safeParse(spec(9e15));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['resources', 'memoryMb']);
    expect(experimentSpecSchema.safeParse(spec(64 * 1024)).success).toBe(true);
  });
});
