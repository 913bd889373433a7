import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type Dockerode from 'dockerode';
import type { ExperimentResult } from '../../common/experiment';
import { EXPERIMENT_LABEL } from '../../common/labels';
import { Queue } from '../../common/queues';
import { experimentWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';

let counter = 0;

/** An experiment id no earlier run of the tests has used. */
export function uniqueId(name: string): string {
  return `${name}-${Date.now().toString(36)}-${counter++}`;
}

export function tempDir(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `sciops-${name}-`));
}

export function startExperiment(client: Client, spec: { id: string } & Record<string, unknown>): Promise<WorkflowHandle> {
  return client.workflow.start(WorkflowType.runExperiment, {
    taskQueue: Queue.workflows,
    workflowId: experimentWorkflowId(spec.id),
    args: [spec],
  });
}

export async function runExperiment(client: Client, spec: { id: string } & Record<string, unknown>): Promise<ExperimentResult> {
  return (await startExperiment(client, spec)).result() as Promise<ExperimentResult>;
}

/** How many containers the engine created for an experiment since `sinceMs` (a Date.now()): its events, not its list. */
export async function containersCreated(docker: Dockerode, id: string, sinceMs: number): Promise<number> {
  const stream = (await docker.getEvents({
    // The engine takes fractional seconds: a create in the same second but before `sinceMs` is not counted.
    since: (sinceMs / 1000).toFixed(3) as unknown as number,
    until: Math.ceil(Date.now() / 1000) + 1,
    filters: { type: ['container'], event: ['create'], label: [`${EXPERIMENT_LABEL}=${id}`] },
  })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.split('\n').filter((line) => line.trim() !== '').length;
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Resolves once the experiment's container is running on `docker` (found by its label). */
export function containerRunning(docker: Dockerode, id: string, timeoutMs = 30_000): Promise<true> {
  return eventually(`the container of ${id} to run`, timeoutMs, async () => {
    const [c] = await docker.listContainers({ filters: { label: [`${EXPERIMENT_LABEL}=${id}`] } });
    return c?.State === 'running' ? true : undefined;
  });
}
