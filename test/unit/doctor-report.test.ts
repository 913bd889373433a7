import { describe, expect, it } from 'vitest';
import { renderDoctorTable } from '../../clients/doctor-table';
import { type CheckResult, noWorkerResult, overallStatus } from '../../common/doctor';

const ok: CheckResult = { check: 'docker', status: 'ok', summary: 'engine 20.10', facts: [['engine', '20.10']] };
const warn: CheckResult = { check: 'db', status: 'warn', summary: 'no pg_dump', fix: 'install it', facts: [] };

describe('overallStatus', () => {
  it('is the worst check', () => {
    expect(overallStatus([ok])).toBe('ok');
    expect(overallStatus([ok, warn])).toBe('warn');
    expect(overallStatus([warn, noWorkerResult('aws', 5)])).toBe('fail');
  });
});

describe('noWorkerResult', () => {
  it('tells how to start the missing worker', () => {
    expect(noWorkerResult('docker@n2', 5).fix).toBe('start one where it can reach the system: sciops worker --node n2');
    expect(noWorkerResult('db', 5).fix).toBe('start one where it can reach the system: sciops worker --queues db');
  });
});

describe('renderDoctorTable', () => {
  it('prints one block per check with its facts and fix, then the totals', () => {
    expect(renderDoctorTable({ status: 'warn', checks: [ok, warn] }).split('\n')).toEqual([
      'ok    docker        engine 20.10',
      '        engine      20.10',
      'WARN  db            no pg_dump',
      '        fix         install it',
      '',
      'overall: warn (1 ok, 1 warn, 0 fail)',
    ]);
  });
});
