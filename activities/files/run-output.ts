import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { type ExperimentSpec, lastLines, type RunOutcome } from '../../common/experiment';

/** How much of stderr's end is read back for the failure message. */
const TAIL_BYTES = 4096;

/**
 * Saves a finished run's output where module-execution servers keep it: `stdout.txt`, `stderr.txt` and
 * `exit_code.txt` in `dir`. `fill` streams the logs into the two files (constant memory, whatever their
 * size). Each file is written under a temporary name and renamed when complete; exit_code.txt comes last,
 * so its presence means the other two are whole. `tailOf` names the file whose last lines go in the outcome
 * (Batch writes one combined log to stdout.txt). `progress.bytes` counts what reached the two files, for the
 * caller's heartbeat: a copy of gigabytes takes longer than any heartbeat timeout, so call this inside one.
 */
export async function saveRunOutput(
  dir: string,
  exitCode: number,
  fill: (stdout: Writable, stderr: Writable) => Promise<void>,
  tailOf: 'stdout' | 'stderr' = 'stderr',
  progress: { bytes: number } = { bytes: 0 },
): Promise<RunOutcome> {
  await mkdir(dir, { recursive: true });
  const names = { stdout: path.join(dir, 'stdout.txt'), stderr: path.join(dir, 'stderr.txt'), exitCode: path.join(dir, 'exit_code.txt') };
  // Temporary names of this writer's own: a stop racing a run's last save must not rename the other's file.
  const partial = `.partial-${randomBytes(4).toString('hex')}`;
  const files = [createWriteStream(`${names.stdout}${partial}`), createWriteStream(`${names.stderr}${partial}`)];
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
  await writeFile(`${names.exitCode}${partial}`, `${exitCode}\n`);
  await rename(`${names.exitCode}${partial}`, names.exitCode);
  return { exitCode, stderrTail: lastLines(await tail(names[tailOf])), outputDir: dir };
}

async function tail(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Where an experiment's output goes: the spec's outputDir, else `<SCIOPS_EXPERIMENTS_DIR>/<id>` on this worker. */
export function outputDirOf(spec: Pick<ExperimentSpec, 'id' | 'outputDir'>, experimentsDir: string): string {
  return spec.outputDir ?? path.resolve(experimentsDir, spec.id);
}
