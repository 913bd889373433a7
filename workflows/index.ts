// Every workflow the `sciops` task queue runs. The worker bundles this file.
export { doctor } from './doctor';
export { ensureEfs } from './ensure-efs';
export { recoverExperiments } from './recover-experiments';
export { runExperiment } from './run-experiment';
