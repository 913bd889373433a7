import type { CheckStatus, DoctorReport } from '../common/doctor';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

/** The doctor report as a plain-text table: one block per check, facts indented, the fix last. Pure. */
export function renderDoctorTable(report: DoctorReport): string {
  const keyWidth = Math.max(12, ...report.checks.flatMap((c) => [c.check.length, ...c.facts.map(([k]) => k.length + 2)]));
  const lines: string[] = [];
  for (const check of report.checks) {
    lines.push(`${MARK[check.status]}  ${check.check.padEnd(keyWidth)}  ${check.summary}`);
    for (const [key, value] of check.facts) lines.push(`      ${`  ${key}`.padEnd(keyWidth)}  ${value}`);
    if (check.fix !== undefined) lines.push(`      ${'  fix'.padEnd(keyWidth)}  ${check.fix}`);
  }
  const counts = (['ok', 'warn', 'fail'] as const).map((s) => `${report.checks.filter((c) => c.status === s).length} ${s}`);
  lines.push('', `overall: ${report.status} (${counts.join(', ')})`);
  return lines.join('\n');
}
