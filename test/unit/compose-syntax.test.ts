import { describe, expect, it } from 'vitest';
import { parseShortPort } from '../../common/compose/port-spec';
import { splitShellWords } from '../../common/compose/shell-words';
import { cpus, goFloat, isGoDuration, ramInBytes } from '../../common/compose/units';
import { parseShortVolume } from '../../common/compose/volume-spec';

/** The parsers of compose short syntax and scalars, each as the Go code docker runs. */
describe('compose syntax parsers', () => {
  it('parses volume specs as docker volumespec does', () => {
    expect(parseShortVolume('/a')).toEqual({ type: 'volume', target: '/a', readOnly: false });
    expect(parseShortVolume('C:\\data:/data')).toMatchObject({ type: 'bind', source: 'C:\\data', target: '/data' });
    expect(parseShortVolume('config/relative:/rel')).toMatchObject({ type: 'volume', source: 'config/relative' });
    expect(parseShortVolume('ab::c')).toBe('"ab::c" has an empty section between colons');
    expect(parseShortVolume('ab:cd:ro:x')).toBe('"ab:cd:ro:x" has too many colons: write SOURCE:TARGET[:MODE]');
  });

  it('formats floats as Go fmt.Sprint does', () => {
    expect([0.1, 1.5, 123456.0, 1234567.0, 0.0001, 0.00012, -2.5e-7, 1e21, 100].map(goFloat)).toEqual([
      '0.1',
      '1.5',
      '123456',
      '1.234567e+06',
      '0.0001',
      '0.00012',
      '-2.5e-07',
      '1e+21',
      '100',
    ]);
  });

  it('refuses port specs docker refuses', () => {
    expect(parseShortPort('80:80/icmp')).toBe('"80:80/icmp": unknown protocol "icmp" (tcp, udp or sctp)');
    expect(parseShortPort('70000:80')).toBe('"70000:80": invalid published port "70000" (out of range 0-65535)');
    expect(parseShortPort('300.1.1.1:80:80')).toBe('"300.1.1.1:80:80": invalid IP address "300.1.1.1"');
    expect(parseShortPort('[::1]:80:80')).toMatch(/binds host address ::1, which a swarm service cannot do/);
  });

  it('splits words as google/shlex does: quotes, backslashes, a # starting a word', () => {
    expect(splitShellWords(`a "b\\c" '' #comment\nd e#f`)).toEqual(['a', 'bc', '', 'd', 'e#f']);
    expect(() => splitShellWords(`it's`)).toThrow('unclosed single quote');
    expect(() => splitShellWords('trailing\\')).toThrow('backslash at the end');
  });

  it('reads sizes as go-units RAMInBytes, CPU counts as opts.ParseCPUs, durations as time.ParseDuration', () => {
    expect(['512M', '1g', '1.5GB', '2 KiB', '100', '64kb', '1.5gib'].map(ramInBytes)).toEqual([
      512 * 1024 ** 2,
      1024 ** 3,
      1.5 * 1024 ** 3,
      2048,
      100,
      65536,
      1.5 * 1024 ** 3,
    ]);
    expect(['', 'lots', '1x', '1kbb', '-1m'].map(ramInBytes)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([0.5, '2', '1.25', '0.0000000001'].map((v) => cpus(v))).toEqual([0.5, 2, 1.25, undefined]);
    expect(['10s', '1m30s', '1.5h', '500ms', '0', '2us'].every(isGoDuration)).toBe(true);
    expect(['10', '10 s', 's', '1d', ''].some(isGoDuration)).toBe(false);
  });
});
