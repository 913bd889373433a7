import type { Command } from 'commander';
import { registerList } from './list';
import { registerLogs } from './logs';
import { registerRecover } from './recover';
import { registerStatus } from './status';
import { registerStop } from './stop';
import { registerSubmit } from './submit';

/** `sciops experiment <submit|status|logs|stop|list|recover>`: one file per subcommand. */
export function registerExperiment(program: Command): void {
  const experiment = program
    .command('experiment')
    .description('run experiments as containers (docker, swarm, AWS Batch) and follow them')
    .addHelpText(
      'after',
      '\nExamples:\n  sciops experiment submit examples/experiments/correlation.json --wait\n  sciops experiment list --state TIMEOUT_EXCEEDED\n  sciops experiment stop exp-42',
    );
  registerSubmit(experiment);
  registerStatus(experiment);
  registerLogs(experiment);
  registerStop(experiment);
  registerList(experiment);
  registerRecover(experiment);
}
