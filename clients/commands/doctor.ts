import type { Command } from 'commander';
import { type DoctorReport, doctorInputSchema } from '../../common/doctor';
import { parseInput } from '../../common/validate';
import { doctorWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { renderDoctorTable } from '../doctor-table';
import { type Output, withOutput } from '../output';
import { runWorkflow } from '../start-workflow';

export interface DoctorOptions {
  readonly node: string[];
  readonly wait: string;
}

/** Starts the doctor workflow, waits for its report. The report IS the `--json` output. */
export function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const input = parseInput(doctorInputSchema, { nodes: options.node, waitSeconds: Number(options.wait) }, 'doctor options');
  return runWorkflow<DoctorReport>(WorkflowType.doctor, doctorWorkflowId(new Date()), input, { waitSeconds: input.waitSeconds });
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check every system sciops touches, through a worker on each task queue (docker, db, aws): one host per docker queue, and the backup directory the db and docker workers share',
    )
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
