// Every workflow the `sciops` task queue runs. The worker bundles this file.
export { doctor } from './doctor';
