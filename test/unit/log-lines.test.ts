import { describe, expect, it } from 'vitest';
import { formatLogLine, redact } from '../../workers/log-lines';

const at = BigInt(Date.UTC(2026, 10, 22, 3, 0, 0)) * 1_000_000n;

describe('worker log lines', () => {
  it('JSON: time, level, msg first, then the SDK context, with secrets masked', () => {
    const line = formatLogLine(
      {
        level: 'INFO',
        message: 'connected to postgres://sciops:hunter2@db:5432/sciops',
        timestampNanos: at,
        meta: { workflowId: 'experiment-e1', activityId: '7', token: 'glpat-abc', error: new Error('at postgres://u:pw@h/db') },
      },
      'json',
    );
    expect(JSON.parse(line)).toEqual({
      time: '2026-11-22T03:00:00.000Z',
      level: 'info',
      msg: 'connected to postgres://sciops:***@db:5432/sciops',
      workflowId: 'experiment-e1',
      activityId: '7',
      token: '***',
      error: 'at postgres://u:***@h/db',
    });
    expect(line).not.toMatch(/hunter2|glpat|pw@/);
  });

  it('text: one readable line with the ids that matter', () => {
    expect(formatLogLine({ level: 'WARN', message: 'slow', timestampNanos: at, meta: { workflowId: 'w', runId: 'r' } }, 'text')).toBe(
      '2026-11-22T03:00:00.000Z WARN  slow  workflowId=w',
    );
    expect(redact('no url here')).toBe('no url here');
  });

  it('masks a URL password with an empty user and password= / token: values (review p4)', () => {
    expect(redact('connect postgres://:s3cret@db:5432/omics')).toBe('connect postgres://:***@db:5432/omics');
    expect(redact('host=db password=s3cret dbname=omics')).toBe('host=db password=*** dbname=omics');
    expect(redact("token: 'glpat-abc' and api_key=xyz&x=1")).toBe('token: *** and api_key=***&x=1');
    expect(redact('the passport office')).toBe('the passport office');
  });
});
