/**
 * Workflow type names, as typed into the Web UI's "Start Workflow" form, and the task queue they run on.
 * Clients start workflows by these names (they never import workflow code).
 */
export const WorkflowType = {
  doctor: 'doctor',
  runExperiment: 'runExperiment',
  recoverExperiments: 'recoverExperiments',
  ensureEfs: 'ensureEfs',
  deployStack: 'deployStack',
  planStackDeploy: 'planStackDeploy',
  teardownStack: 'teardownStack',
  backup: 'backup',
  listBackups: 'listBackups',
  restore: 'restore',
  importBackup: 'importBackup',
} as const;
