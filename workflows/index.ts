// Every workflow the `sciops` task queue runs. The worker bundles this file.
//
// Each export loads its workflow's module only when a run calls it. With the SDK's reusable V8 context every
// workflow run evaluates anew each module it requires, and the SDK calls only the export its run's type names:
// a run so evaluates its own workflow's modules, not every workflow's (a lock run no longer evaluates the
// deploy's and the backups' schemas and the schema library). Measured with 200 runs of the lock workflow
// started at once: 33 ms of CPU and about 3 MB a run with every module evaluated, 8 ms and 0.4 MB with the
// lock's alone.
import type * as Backup from './backup';
import type * as BackupLock from './backup-lock';
import type * as DeployStack from './deploy-stack';
import type * as Doctor from './doctor';
import type * as EnsureEfs from './ensure-efs';
import type * as ImportBackup from './import-backup';
import type * as RecoverExperiments from './recover-experiments';
import type * as Restore from './restore';
import type * as RunExperiment from './run-experiment';
import type * as TeardownStack from './teardown-stack';

/** A workflow function that loads its module only when a run calls it. */
function lazily<F extends (...args: never[]) => unknown>(load: () => F): F {
  return ((...args: Parameters<F>) => load()(...args)) as F;
}

export const backup = lazily(() => (require('./backup') as typeof Backup).backup);
export const listBackups = lazily(() => (require('./backup') as typeof Backup).listBackups);
export const backupTargetLock = lazily(() => (require('./backup-lock') as typeof BackupLock).backupTargetLock);
export const deployStack = lazily(() => (require('./deploy-stack') as typeof DeployStack).deployStack);
export const planStackDeploy = lazily(() => (require('./deploy-stack') as typeof DeployStack).planStackDeploy);
export const doctor = lazily(() => (require('./doctor') as typeof Doctor).doctor);
export const ensureEfs = lazily(() => (require('./ensure-efs') as typeof EnsureEfs).ensureEfs);
export const importBackup = lazily(() => (require('./import-backup') as typeof ImportBackup).importBackup);
export const recoverExperiments = lazily(() => (require('./recover-experiments') as typeof RecoverExperiments).recoverExperiments);
export const restore = lazily(() => (require('./restore') as typeof Restore).restore);
export const runExperiment = lazily(() => (require('./run-experiment') as typeof RunExperiment).runExperiment);
export const teardownStack = lazily(() => (require('./teardown-stack') as typeof TeardownStack).teardownStack);
