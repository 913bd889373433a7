import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import type { BenchEnvironment } from '../bench/support/environment';
import { descendants, type ProcessStamp } from './processes';

const { TaskQueueType } = temporal.api.enums.v1;

/** One `sciops worker` process: its name in reports, the queue it polls, and how it is started again. */
export interface WorkerSpec {
  readonly name: string;
  readonly queue: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

interface Running {
  readonly spec: WorkerSpec;
  child: ChildProcess;
}

/** What a SIGKILL hit: the worker, and the processes it had started (which must not outlive it for long). */
export interface Kill {
  readonly worker: string;
  readonly orphans: readonly ProcessStamp[];
}

/**
 * The workers of the suite, each a process of its own (the workflow worker apart from the activity workers),
 * so that the one holding an activity can be SIGKILLed while the workflow lives on, and started again with the
 * same arguments.
 */
export class WorkerProcesses {
  private readonly running: Running[] = [];

  constructor(private readonly env: BenchEnvironment) {}

  async start(specs: readonly WorkerSpec[]): Promise<void> {
    for (const spec of specs) this.running.push({ spec, child: this.env.worker([...spec.args], spec.env) });
    await Promise.all(this.running.map((w) => this.polling(w)));
  }

  /** The worker whose identity (`pid@host`, the SDK's default) a pending activity names. */
  holderOf(identity: string): WorkerSpec | undefined {
    const pid = Number(identity.split('@')[0]);
    return this.running.find((w) => w.child.pid === pid)?.spec;
  }

  /** SIGKILLs the worker and starts it again with the same arguments; resolves once the new one polls. */
  async killAndRestart(spec: WorkerSpec): Promise<Kill> {
    const w = this.running.find((r) => r.spec === spec);
    if (w === undefined) throw new Error(`no worker ${spec.name}`);
    const orphans = descendants(w.child.pid as number);
    const exited = new Promise((resolve) => w.child.once('exit', resolve));
    w.child.kill('SIGKILL');
    await exited;
    w.child = this.env.worker([...spec.args], spec.env);
    await this.polling(w);
    return { worker: spec.name, orphans };
  }

  /** Waits until the server lists this very process among the pollers of its queue. */
  private async polling(w: Running): Promise<void> {
    const taskQueueType = w.spec.queue === 'sciops' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (w.child.exitCode !== null) throw new Error(`worker ${w.spec.name} exited with code ${w.child.exitCode} before it polled`);
      const { pollers } = await this.env.client.connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: w.spec.queue },
        taskQueueType,
      });
      if ((pollers ?? []).some((p) => p.identity?.startsWith(`${w.child.pid}@`))) return;
      if (Date.now() > deadline) throw new Error(`worker ${w.spec.name} did not poll ${w.spec.queue} within 60 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
