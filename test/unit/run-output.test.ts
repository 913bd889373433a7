import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveRunOutput } from '../../activities/files/run-output';
import { tempDir } from '../support/experiments';

describe('saveRunOutput', () => {
  it('writes the three files readable by the worker and its group only, in a directory of the same kind (review M8)', async () => {
    const dir = path.join(tempDir('run-output'), 'exp-1');
    const outcome = await saveRunOutput(dir, 3, async (stdout, stderr) => {
      stdout.write('rows: 10\n');
      stderr.write('failed at row 7\n');
    });
    expect(outcome).toEqual({ exitCode: 3, errorLog: 'stderr.txt', outputDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o750 & ~process.umask());
    for (const [name, text] of [
      ['stdout.txt', 'rows: 10\n'],
      ['stderr.txt', 'failed at row 7\n'],
      ['exit_code.txt', '3\n'],
    ] as const) {
      expect(readFileSync(path.join(dir, name), 'utf8')).toBe(text);
      expect(statSync(path.join(dir, name)).mode & 0o007, `${name} is not world-readable`).toBe(0);
      expect(statSync(path.join(dir, name)).mode & 0o777).toBe(0o640 & ~process.umask());
    }
    expect(readdirSync(dir).sort()).toEqual(['exit_code.txt', 'stderr.txt', 'stdout.txt']);
  });

  it('a second save into the same directory replaces the files whole', async () => {
    const dir = tempDir('run-output-again');
    await saveRunOutput(dir, 1, async (stdout) => void stdout.write('first\n'));
    await saveRunOutput(dir, 0, async (stdout) => void stdout.write('second\n'));
    expect(readFileSync(path.join(dir, 'stdout.txt'), 'utf8')).toBe('second\n');
    expect(readFileSync(path.join(dir, 'exit_code.txt'), 'utf8')).toBe('0\n');
    expect(existsSync(path.join(dir, 'stderr.txt'))).toBe(true);
  });
});
