import type { Command } from 'commander';
import { type DoctorReport, doctorInputSchema } from '../../common/doctor';
import { Queue } from '../../common/queues';
import { parseInput } from '../../common/validate';
import { WorkflowType } from '../../common/workflow-types';
import { connectClient } from '../connection';
import { renderDoctorTable } from '../doctor-table';
import { type Output, withOutput } from '../output';
import { startConfirmed } from '../start-workflow';

export interface DoctorOptions {
  readonly node: string[];
  readonly wait: string;
}

/** Starts the doctor workflow, waits for its report. The report IS the `--json` output. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const input = parseInput(doctorInputSchema, { nodes: options.node, waitSeconds: Number(options.wait) }, 'doctor options');
  const { client, close } = await connectClient();
  try {
    const options = { taskQueue: Queue.workflows, workflowId: `doctor-${new Date().toISOString()}`, args: [input] };
    const handle = await startConfirmed(client, WorkflowType.doctor, options, input.waitSeconds);
    return (await handle.result()) as DoctorReport;
  } finally {
    await close();
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check every system sciops touches, through a worker on each task queue (docker, db, aws)')
    .option(
      '--node <name>',
      'also check the node-local worker of this swarm node (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--wait <seconds>', 'how long the workflow and each check may wait for a worker to pick it up', '15')
    .addHelpText('after', '\nExamples:\n  sciops doctor\n  sciops doctor --node worker-1 --json')
    .action(
      withOutput(runDoctor, (report: DoctorReport, out: Output) => {
        out.print(renderDoctorTable(report));
        return report.status === 'fail' ? 1 : 0;
      }),
    );
}
