import { describe, expect, it } from 'vitest';
import { clientProblem, majorOf, pgDumpCanDump, psqlKnowsRestrict, serverVersionNum, toolVersionNum } from '../../common/pg-version';

const DEBIAN_15 = 'pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)';
const PSQL_15 = 'psql (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)';

describe('toolVersionNum', () => {
  it('reads the version of a --version line, as server_version_num counts it', () => {
    expect(toolVersionNum(DEBIAN_15)).toBe(150018);
    expect(toolVersionNum('pg_dump (PostgreSQL) 16.4')).toBe(160004);
    expect(toolVersionNum('psql (PostgreSQL) 17.6 (Ubuntu 17.6-1.pgdg24.04+1)')).toBe(170006);
    expect(toolVersionNum('pg_dump (PostgreSQL) 18devel')).toBe(180000);
    expect(toolVersionNum('pg_dump (PostgreSQL) 16beta2')).toBe(160000);
    expect(toolVersionNum('pg_dump (PostgreSQL) 9.6.24')).toBe(90624);
  });

  it('is undefined for what is no version line', () => {
    expect(toolVersionNum('')).toBeUndefined();
    expect(toolVersionNum('command not found')).toBeUndefined();
  });
});

describe('serverVersionNum and majorOf', () => {
  it('takes server_version_num as the server says it, and names its major version', () => {
    expect(serverVersionNum('160004')).toBe(160004);
    expect(serverVersionNum(990000)).toBe(990000);
    expect(serverVersionNum('16.4')).toBeUndefined();
    expect(serverVersionNum('')).toBeUndefined();
    expect(majorOf(160004)).toBe('16');
    expect(majorOf(990000)).toBe('99');
    expect(majorOf(90624)).toBe('9.6');
  });
});

describe('pgDumpCanDump', () => {
  it('needs a pg_dump of at least the major version of the server, whatever the minor versions', () => {
    expect(pgDumpCanDump(150018, 160000)).toBe(false);
    expect(pgDumpCanDump(150018, 990000)).toBe(false);
    expect(pgDumpCanDump(150000, 150018)).toBe(true);
    expect(pgDumpCanDump(170006, 160004)).toBe(true);
    expect(pgDumpCanDump(150018, 90624)).toBe(true);
    expect(pgDumpCanDump(90624, 90500)).toBe(true);
    expect(pgDumpCanDump(90500, 90624)).toBe(false);
  });
});

describe('psqlKnowsRestrict', () => {
  it('is true from the minor releases that brought \\restrict, and for every major version after them', () => {
    expect(psqlKnowsRestrict(150014)).toBe(true);
    expect(psqlKnowsRestrict(150013)).toBe(false);
    expect(psqlKnowsRestrict(160010)).toBe(true);
    expect(psqlKnowsRestrict(160009)).toBe(false);
    expect(psqlKnowsRestrict(170006)).toBe(true);
    expect(psqlKnowsRestrict(130022)).toBe(true);
    expect(psqlKnowsRestrict(180000)).toBe(true);
    expect(psqlKnowsRestrict(120022)).toBe(false);
  });
});

describe('clientProblem', () => {
  it('refuses pg_dump older than the server, naming the target, both versions and the fix', () => {
    const problem = clientProblem('target app', { pgDump: DEBIAN_15, server: '990000' }, false);
    expect(problem).toContain('target app: pg_dump 15 (pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1))');
    expect(problem).toContain('PostgreSQL 99 (server_version_num 990000)');
    expect(problem).toContain('use a newer client via SCIOPS_PG_BIN_DIR (a directory with pg_dump and psql of major ≥ 99)');
    expect(problem).toContain('service mode');
  });

  it('takes a newer pg_dump, or the same major version, for any server version', () => {
    expect(clientProblem('target app', { pgDump: 'pg_dump (PostgreSQL) 17.6', psql: PSQL_15, server: '160004' }, true)).toBeUndefined();
    expect(clientProblem('target app', { pgDump: DEBIAN_15, psql: PSQL_15, server: '150002' }, true)).toBeUndefined();
  });

  it('holds psql to \\restrict only for work that restores, and to no server version', () => {
    const old = { pgDump: 'pg_dump (PostgreSQL) 16.2', psql: 'psql (PostgreSQL) 16.2', server: '160002' };
    expect(clientProblem('target app', old, false)).toBeUndefined();
    expect(clientProblem('target app', old, true)).toContain('does not know \\restrict');
    expect(clientProblem('target app', { ...old, psql: undefined }, true)).toContain('is not the version line of psql');
  });

  it('names what it cannot read', () => {
    expect(clientProblem('target app', { pgDump: DEBIAN_15, server: 'x' }, false)).toContain('server_version_num "x" is not a version');
    expect(clientProblem('target app', { pgDump: 'garbage', server: '160000' }, false)).toContain(
      '"garbage" is not the version line of pg_dump',
    );
  });
});
