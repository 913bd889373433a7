import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { IgnoredKey } from '../../common/compose/model';
import { InputError } from '../../common/errors';
import { Queue } from '../../common/queues';
import { type DeployReport, type StackSpec, stackSpecSchema } from '../../common/stack';
import { changeLine, type StackPlan } from '../../common/stack-plan';
import { parseInput } from '../../common/validate';
import { deployWorkflowId, planWorkflowId } from '../../common/workflow-ids';
import { WorkflowType } from '../../common/workflow-types';
import { type ComposeOptions, ignoredLines, loadComposeStack } from '../compose-files';
import { connectClient } from '../connection';
import { follow } from '../follow';
import { type Output, progressPrinter, withOutput } from '../output';
import type { ProgressDisplay } from '../progress-display';
import { readSpecFile } from '../spec-file';
import { startConfirmed } from '../start-workflow';

export type DeployResult = ({ mode: 'plan' } & StackPlan) | ({ mode: 'deploy' } & DeployReport);

/** Where a deploy's spec comes from: sciops' own stack file, or compose files (`-c`) and a stack name, as docker takes them. */
export type StackSource = { readonly file: string } | ({ readonly stack: string } & ComposeOptions);

/** The stack spec a source names, validated (nothing starts when it is invalid), and the compose keys ignored. */
export function stackFrom(source: StackSource, flags: StackFlags = {}): { spec: StackSpec; ignored: readonly IgnoredKey[] } {
  const { spec, ignored } =
    'file' in source
      ? { spec: parseInput(stackSpecSchema, readSpecFile(source.file), `stack spec ${source.file}`), ignored: [] }
      : loadComposeStack(source.stack, source);
  return { spec: { ...spec, ...flags }, ignored };
}

/** The command-line flags that set a deploy's own fields, as `docker stack deploy` takes them. */
type StackFlags = { detach?: true; withRegistryAuth?: true };

function flagsOf(options: DeployOptions): StackFlags {
  return { ...(options.detach ? { detach: true } : {}), ...(options.withRegistryAuth ? { withRegistryAuth: true } : {}) };
}

/**
 * Runs planStackDeploy (--plan: touches nothing) or deployStack under the workflow id deploy-<stack>,
 * following its progress on a terminal.
 */
export async function deploy(
  source: StackSource,
  options: { plan?: boolean; progress?: ProgressDisplay; flags?: StackFlags },
): Promise<DeployResult> {
  const { spec, ignored } = stackFrom(source, options.flags);
  for (const line of ignoredLines(ignored)) process.stderr.write(`${line}\n`);
  const { client, close } = await connectClient();
  try {
    const type = options.plan ? WorkflowType.planStackDeploy : WorkflowType.deployStack;
    const workflowId = options.plan ? planWorkflowId(spec.name, new Date()) : deployWorkflowId(spec.name);
    const handle = await startConfirmed(client, type, { taskQueue: Queue.workflows, workflowId, args: [spec] }, 15).catch(
      (err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new InputError(`stack ${spec.name}`, [
            `name: a deploy of it is running (workflow ${workflowId}); wait for it, or see it in the Web UI`,
          ]);
        }
        throw err;
      },
    );
    if (options.plan) return { mode: 'plan', ...(await follow<StackPlan>(handle)) };
    return { mode: 'deploy', ...(await follow<DeployReport>(handle, { display: options.progress })) };
  } finally {
    await close();
  }
}

export function renderDeploy(result: DeployResult, out: Output): number {
  for (const c of result.changes) out.print(changeLine(c));
  if (result.mode === 'plan') {
    for (const p of result.problems) out.print(`PROBLEM    ${p}`);
    if (result.problems.length === 0 && result.changes.every((c) => c.change === 'unchanged' || c.change === 'external'))
      out.print('nothing to do: the stack already matches its spec');
    return result.problems.length > 0 ? 1 : 0;
  }
  for (const step of result.migrated) out.print(`applied    step     ${step}`);
  out.print(result.unchanged ? 'nothing changed: the stack already matches its spec' : `stack ${result.stack} deployed`);
  for (const file of result.secretFiles) out.print(`generated secret: read it once from ${file} (mode 0600), then delete the file`);
  return 0;
}

interface DeployOptions {
  composeFile?: string[];
  envFile?: string;
  plan?: boolean;
  detach?: boolean;
  withRegistryAuth?: boolean;
}

/** `deploy STACK-FILE` or, with `-c`, `deploy -c FILE... STACK`. */
export function sourceOf(argument: string, options: DeployOptions): StackSource {
  if (options.composeFile === undefined || options.composeFile.length === 0) {
    if (options.envFile !== undefined) throw new InputError('deploy options', ['--env-file: goes with -c compose files']);
    return { file: argument };
  }
  return { stack: argument, files: options.composeFile, ...(options.envFile === undefined ? {} : { envFile: options.envFile }) };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDeploy(program: Command): void {
  program
    .command('deploy <stack-file-or-name>')
    .description(
      'deploy a stack from sciops YAML/JSON, or from compose files (-c) as docker stack deploy does: volumes, networks, secrets, configs, services, GitLab runners, migrations; a second run changes nothing',
    )
    .option(
      '-c, --compose-file <file>',
      'a compose file (repeat to merge several, as docker stack deploy -c); the argument is then the stack name',
      collect,
    )
    .option('--env-file <file>', 'variables for $VAR in the compose files (default: .env beside the first file); the environment wins')
    .option('--plan', 'print what would be created, updated (and which fields) or left unchanged, and touch nothing')
    .option('--detach', 'do not wait for the services to converge (as docker stack deploy --detach)')
    .option('--with-registry-auth', "send the manager worker's registry credentials to the swarm agents")
    .addHelpText(
      'after',
      '\nExamples:\n  sciops deploy -c docker-compose.yml omics --plan\n  sciops deploy -c docker-compose.yml -c docker-compose.prod.yml omics\n  sciops deploy examples/stacks/omics-platform.yaml',
    )
    .action((argument: string, options: DeployOptions, command: Command) => {
      const progress = progressPrinter(command);
      return withOutput(() => deploy(sourceOf(argument, options), { plan: options.plan, progress, flags: flagsOf(options) }), renderDeploy)(
        undefined,
        command,
      );
    });
  program
    .command('stack')
    .description('stack specs')
    .command('convert <stack>')
    .description("print the deploy workflow's input for compose files: the JSON the Web UI's Start Workflow form takes")
    .requiredOption('-c, --compose-file <file>', 'a compose file (repeat to merge several)', collect)
    .option('--env-file <file>', 'variables for $VAR (default: .env beside the first file)')
    .action((stack: string, options: DeployOptions) => {
      const { spec, ignored } = stackFrom(sourceOf(stack, options));
      for (const line of ignoredLines(ignored)) process.stderr.write(`${line}\n`);
      process.stdout.write(`${JSON.stringify(spec, null, 2)}\n`);
    });
}
