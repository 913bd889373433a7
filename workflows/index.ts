// Every workflow the `sciops` task queue runs. The worker bundles this file.
export { backup, listBackups } from './backup';
export { backupTargetLock } from './backup-lock';
export { deployStack, planStackDeploy } from './deploy-stack';
export { doctor } from './doctor';
export { ensureEfs } from './ensure-efs';
export { importBackup } from './import-backup';
export { recoverExperiments } from './recover-experiments';
export { restore } from './restore';
export { runExperiment } from './run-experiment';
export { teardownStack } from './teardown-stack';
