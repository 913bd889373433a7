import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { RunOutcome } from '../../common/experiment';

const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

/**
 * Saves a finished run's output where module-execution servers keep it: `stdout.txt`, `stderr.txt` and
 * `exit_code.txt` in `dir`. `fill` streams the logs into the two files (constant memory, whatever their
 * size). Each file is written under a temporary name and renamed when complete; exit_code.txt comes last,
 * so its presence means the other two are whole. `errorsIn` names the file that holds the run's stderr (Batch
 * writes one combined log to stdout.txt): failure messages name it rather than quote it, since an
 * experiment's output may hold its data. `progress.bytes` counts what reached the two files, for the
 * caller's heartbeat: a copy of gigabytes takes longer than any heartbeat timeout, so call this inside one.
 * An experiment's output may hold its data: the files are 0640 and a directory made here 0750 (the worker's
 * user and group, e.g. the platform that reads the results, never everyone), each file created new.
 */
export async function saveRunOutput(
  dir: string,
  exitCode: number,
  fill: (stdout: Writable, stderr: Writable) => Promise<void>,
  errorsIn: 'stdout' | 'stderr' = 'stderr',
  progress: { bytes: number } = { bytes: 0 },
): Promise<RunOutcome> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  const names = { stdout: path.join(dir, 'stdout.txt'), stderr: path.join(dir, 'stderr.txt'), exitCode: path.join(dir, 'exit_code.txt') };
  // Temporary names of this writer's own: a stop racing a run's last save must not rename the other's file.
  const partial = `.partial-${randomBytes(4).toString('hex')}`;
  const files = [names.stdout, names.stderr].map((name) => createWriteStream(`${name}${partial}`, { flags: 'wx', mode: FILE_MODE }));
  const [stdout, stderr] = files.map((file) => {
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => {
      progress.bytes += chunk.length;
    });
    counted.pipe(file);
    return counted;
  }) as [PassThrough, PassThrough];
  try {
    await fill(stdout, stderr);
  } finally {
    stdout.end();
    stderr.end();
  }
  await Promise.all(files.map((file) => finished(file)));
  await rename(`${names.stdout}${partial}`, names.stdout);
  await rename(`${names.stderr}${partial}`, names.stderr);
  await writeFile(`${names.exitCode}${partial}`, `${exitCode}\n`, { flag: 'wx', mode: FILE_MODE });
  await rename(`${names.exitCode}${partial}`, names.exitCode);
  return { exitCode, errorLog: path.basename(names[errorsIn]), outputDir: dir };
}
