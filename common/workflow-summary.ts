import { WorkflowType } from './workflow-types';

const names = (list: unknown): string =>
  Array.isArray(list) ? list.map((item) => String((item as { name?: unknown })?.name ?? '?')).join(', ') : '';

/**
 * The one-line summary the Web UI shows for a workflow a sciops client starts (its "User Metadata"). Built only
 * from what the workflow id and search attributes already show (names and ids, never images, commands or
 * environment), since the summary is stored beside the history. Pure.
 */
export function workflowSummary(workflowType: string, input: unknown): string {
  const i = (input ?? {}) as Record<string, unknown>;
  switch (workflowType) {
    case WorkflowType.deployStack:
      return `deploy stack ${String(i.name)}`;
    case WorkflowType.planStackDeploy:
      return `plan a deploy of stack ${String(i.name)}`;
    case WorkflowType.teardownStack:
      return `tear down stack ${String(i.stack)}${i.purge === true ? ' (purge volumes and secrets)' : ''}`;
    case WorkflowType.runExperiment:
      return `experiment ${String(i.id)} (${String(i.type)})`;
    case WorkflowType.recoverExperiments:
      return 'recover experiments a crash left PENDING or IN_PROCESS';
    case WorkflowType.backup:
      return `back up ${String(i.name)}: ${names(i.targets)}`;
    case WorkflowType.listBackups:
      return `list the runs of backup ${String(i.name)}`;
    case WorkflowType.restore:
      return `restore ${String(i.backup)} run ${String(i.run)}`;
    case WorkflowType.doctor:
      return 'check docker, db and aws through the workers';
    case WorkflowType.ensureEfs:
      return 'ensure an EFS file system, its mount targets and access point';
    default:
      return workflowType;
  }
}

/** The details the UI shows under the summary: how the workflow was started and how to follow it. Markdown. */
export function workflowDetails(workflowType: string, workflowId: string, startedBy: string): string {
  return [
    `Started by ${startedBy}.`,
    '',
    `- progress: the \`progress\` query (Queries tab), or Current Details (kept up to date by the workflow)`,
    `- from a terminal: \`temporal workflow describe --workflow-id ${workflowId}\``,
    `- workflow type \`${workflowType}\`; inputs are JSON files under \`examples/\``,
  ].join('\n');
}
