import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { RUN_ID, runPath } from '../common/backup';
import { checkedManifest, MANIFEST_FILE } from '../common/backup-manifest';

/**
 * Every run of `backup` in a local destination that looks complete (it has a manifest, so a restore would
 * take it) but is not: a manifest that does not check out, a dump that is missing or whose size or SHA-256
 * is not the manifest's, a leftover partial file beside them. Also how many runs are complete and not.
 */
export function incompleteLookingComplete(dir: string, backup: string): { problems: string[]; complete: number; incomplete: number } {
  const problems: string[] = [];
  let complete = 0;
  let incomplete = 0;
  const root = path.join(dir, backup);
  const runs = existsSync(root) ? readdirSync(root).filter((r) => RUN_ID.test(r)) : [];
  for (const run of runs) {
    const folder = path.join(dir, runPath(backup, run));
    const manifestFile = path.join(folder, MANIFEST_FILE);
    if (!existsSync(manifestFile)) {
      incomplete++;
      continue;
    }
    complete++;
    const at = `run ${backup}/${run}`;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(manifestFile, 'utf8'));
    } catch (err) {
      problems.push(`${at}: its manifest is not JSON (${(err as Error).message})`);
      continue;
    }
    const checked = checkedManifest(raw, { backup, run });
    if ('problems' in checked) {
      problems.push(`${at}: its manifest does not check out: ${checked.problems.join('; ')}`);
      continue;
    }
    for (const dump of checked.manifest.dumps) {
      const file = path.join(folder, dump.file);
      if (!existsSync(file)) {
        problems.push(`${at}: ${dump.file} is missing`);
        continue;
      }
      const bytes = statSync(file).size;
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      if (bytes !== dump.bytes) problems.push(`${at}: ${dump.file} holds ${bytes} bytes, its manifest says ${dump.bytes}`);
      else if (sha256 !== dump.sha256) problems.push(`${at}: ${dump.file}'s SHA-256 is not its manifest's`);
    }
    for (const name of readdirSync(folder).filter((f) => f.includes('.partial-'))) problems.push(`${at}: partial file ${name} left in it`);
  }
  return { problems, complete, incomplete };
}
