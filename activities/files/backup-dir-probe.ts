import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BACKUP_DIR_CHECK, type CheckResult } from '../../common/doctor';
import { Failure, permanent } from '../../common/failures';

/** What the db worker found when it wrote its probe: its SCIOPS_BACKUP_DIR (none set: nothing to check), or why it could not. */
export interface BackupDirProbeWritten {
  readonly dir?: string;
  readonly error?: string;
}

export interface BackupDirProbeRequest {
  /** `.sciops-doctor-<uuid>`: a folder of its own, directly in the backup directory. */
  readonly name: string;
  /** What the probe file holds, so a stale or foreign file is not taken for it. */
  readonly token: string;
}

export interface BackupDirProbeRead extends BackupDirProbeRequest {
  /** The writer's (db worker's) SCIOPS_BACKUP_DIR, for the report. */
  readonly writerDir: string;
}

const PROBE_NAME = /^\.sciops-doctor-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PROBE_FILE = 'probe';

/** The probe's folder, refusing any other name: the remove below must never reach outside the probe. */
function probeFolder(dir: string, name: string): string {
  if (!PROBE_NAME.test(name)) {
    throw permanent(Failure.invalidInput, `"${name}" is not a doctor probe name`);
  }
  return path.join(dir, name);
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

/**
 * The doctor's check of a local backup directory shared by the db worker (which writes dumps there) and the
 * docker worker (which verifies them, writes the manifest and prunes old runs): the db worker writes a probe
 * as the backup store writes a dump (a folder 0700, a file 0600), the docker worker must read it and remove
 * it. `dir` is this worker's SCIOPS_BACKUP_DIR.
 */
export function createBackupDirProbe(dir: string | undefined) {
  return {
    async writeBackupDirProbe(request: BackupDirProbeRequest): Promise<BackupDirProbeWritten> {
      if (dir === undefined) return {};
      const folder = probeFolder(dir, request.name);
      try {
        // Not recursive: a missing backup directory is the finding (a backup would create it in this container's own layer).
        await mkdir(folder, { mode: 0o700 });
        await writeFile(path.join(folder, PROBE_FILE), request.token, { mode: 0o600, flag: 'wx' });
        return { dir };
      } catch (err) {
        await rm(folder, { recursive: true, force: true }).catch(() => undefined);
        const reason = code(err) === 'ENOENT' ? 'it does not exist' : code(err) === 'EACCES' ? 'permission denied' : code(err);
        return { dir, error: `the db worker cannot write in SCIOPS_BACKUP_DIR=${dir}: ${reason}` };
      }
    },

    async removeBackupDirProbe(request: Pick<BackupDirProbeRequest, 'name'>): Promise<void> {
      if (dir === undefined) return;
      await rm(probeFolder(dir, request.name), { recursive: true, force: true });
    },

    async readBackupDirProbe(request: BackupDirProbeRead): Promise<CheckResult> {
      const writer = request.writerDir;
      const facts: Array<[string, string]> = [
        ['db worker', `SCIOPS_BACKUP_DIR=${writer}`],
        ['docker worker', dir === undefined ? 'SCIOPS_BACKUP_DIR not set' : `SCIOPS_BACKUP_DIR=${dir}`],
      ];
      const fix = `mount one volume (or shared file system) at ${writer} on both the db and the docker worker, set SCIOPS_BACKUP_DIR=${writer} on both, and give local backup specs that directory (or one below it) as destination.dir`;
      const fail = (summary: string, fixText = fix): CheckResult => ({
        check: BACKUP_DIR_CHECK,
        status: 'fail',
        summary,
        fix: fixText,
        facts,
      });
      if (dir === undefined) {
        return fail(
          `the db worker keeps local backups in ${writer}, but the docker worker (which verifies and prunes them) has no SCIOPS_BACKUP_DIR`,
        );
      }
      const folder = probeFolder(dir, request.name);
      let content: string | undefined;
      try {
        content = await readFile(path.join(folder, PROBE_FILE), 'utf8');
      } catch (err) {
        if (code(err) === 'EACCES') {
          return fail(
            `the docker worker sees the db worker's files in ${dir} but may not read them (they are mode 0600): run it as root or as the db worker's user`,
          );
        }
        if (code(err) !== 'ENOENT') throw err;
      }
      if (content !== request.token) {
        return fail(
          dir === writer
            ? `${dir} is not the same directory on the db and the docker worker: a file the db worker writes there is not seen by the docker worker`
            : `the db worker keeps local backups in ${writer} and the docker worker in ${dir}, and they are not the same directory`,
        );
      }
      try {
        await rm(folder, { recursive: true });
      } catch (err) {
        return fail(
          `the docker worker reads the db worker's files in ${dir} but cannot remove them (${code(err)}), so old runs would never be pruned`,
          "give the docker worker write access to the directory (run it as root or as the db worker's user)",
        );
      }
      if (dir !== writer) {
        return fail(
          `the db worker and the docker worker share one directory, but at ${writer} on one and ${dir} on the other: a backup spec's destination.dir is one path for both`,
        );
      }
      return {
        check: BACKUP_DIR_CHECK,
        status: 'ok',
        summary: `the db and docker workers share ${dir}: a file written by the db worker was read and removed by the docker worker`,
        facts,
      };
    },
  };
}
