import { describe, expect, it } from 'vitest';
import { bar, formatBytes, statusLine, terminalDisplay, transferOf } from '../../clients/progress-display';

describe('the live status line', () => {
  const progress = { state: 'running', current: 'dump', steps: [] } as const;

  it('shows the current step and the time, and the bytes a dump has written', () => {
    expect(statusLine(undefined, 0)).toBe('… waiting for a worker · 0s');
    expect(statusLine(progress, 12, { label: 'db', bytes: 45_300_000 })).toBe('… dump · 12s · db 45.3 MB');
  });

  it('draws a bar when the size is known (a restore reads a file of known size)', () => {
    expect(bar(5, 10, 10)).toBe('[#####-----]  50%');
    expect(bar(20, 10, 4)).toBe('[####] 100%');
    expect(statusLine(progress, 3, { label: 'db.sql.gz', bytes: 1500, total: 3000 })).toBe(
      '… dump · 3s · db.sql.gz [##########----------]  50% 1.5 kB of 3.0 kB',
    );
  });

  it('reads transfers from heartbeat details, and nothing else', () => {
    expect(transferOf({ target: 'db', bytes: 10 })).toEqual({ label: 'db', bytes: 10 });
    expect(transferOf({ restoring: 'x/db.sql.gz', bytes: 10, total: 20 })).toEqual({ label: 'x/db.sql.gz', bytes: 10, total: 20 });
    expect(transferOf({ container: 'abc' })).toBeUndefined();
    expect(transferOf('text')).toBeUndefined();
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(2_500_000_000)).toBe('2.5 GB');
  });

  it('on a terminal, erases the status line before a step line, and only what is drawn', () => {
    let out = '';
    const write = (text: string) => {
      out += text;
      return true;
    };
    const stream = { columns: 40, write } as unknown as NodeJS.WriteStream;
    const display = terminalDisplay(stream);
    display.status('… dump · 1s');
    display.line('[1s] dump: running (db)');
    display.line('[2s] dump: done (1 files)');
    display.status('… verify · 2s');
    display.close();
    display.close();
    // The stale `… dump · 1s` is not drawn again after the step lines; an erase only where a status line is.
    expect(out).toBe('\r\x1b[2K… dump · 1s\r\x1b[2K[1s] dump: running (db)\n[2s] dump: done (1 files)\n\r\x1b[2K… verify · 2s\r\x1b[2K');
    out = '';
    terminalDisplay(stream).status('x'.repeat(60));
    expect(out).toBe(`\r\x1b[2K${'x'.repeat(38)}…`);
    // A terminal that reports no width (0, as under `script`) gets a usable line, not an empty one.
    out = '';
    const unsized = { columns: 0, write } as unknown as NodeJS.WriteStream;
    terminalDisplay(unsized).status('… dump · 3s');
    expect(out).toBe('\r\x1b[2K… dump · 3s');
  });
});
