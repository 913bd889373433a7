import { describe, expect, it } from 'vitest';
import { NODE_NAME, nodeOfQueue, nodeQueue, parseQueueKinds } from '../../common/queues';

describe('parseQueueKinds', () => {
  it('keeps order and drops duplicates and blanks', () => {
    expect(parseQueueKinds('db, sciops,,db')).toEqual(['db', 'sciops']);
  });
  it('names an unknown queue and the valid ones', () => {
    expect(() => parseQueueKinds('sciops,dokcer')).toThrow('unknown queue "dokcer": use a comma-separated list of sciops, docker, db, aws');
  });
  it('refuses an empty list', () => {
    expect(() => parseQueueKinds(' , ')).toThrow('no queue given');
  });
});

describe('node queues', () => {
  it('are docker@<node>', () => {
    expect(nodeQueue('gpu-1')).toBe('docker@gpu-1');
    expect(nodeOfQueue('docker@gpu-1')).toBe('gpu-1');
    expect(nodeOfQueue('docker')).toBeUndefined();
  });
  it('accept hostnames only', () => {
    expect(NODE_NAME.test('worker-1.lab')).toBe(true);
    expect(NODE_NAME.test('-bad')).toBe(false);
    expect(NODE_NAME.test('has space')).toBe(false);
  });
});
