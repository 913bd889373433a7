import { z } from 'zod';
import { NODE_NAME } from './queues';
import { isIPv4, labels, specName as name, stackName } from './spec-fields';
import { configSchema, networkSchema, secretSchema, volumeSchema } from './stack-objects';
import type { PlannedChange } from './stack-plan';
import { serviceSchema } from './stack-service';
import { GITLAB_TOKEN_PREFIX, GITLAB_URLS_SETTING, gitlabUrlProblem, tokenEnvProblem } from './stack-sources';

const swarmSchema = z
  .strictObject({
    advertiseAddr: z
      .string()
      .refine(isIPv4, 'not an IPv4 address')
      .describe("the manager's address the nodes reach it on (`docker swarm init --advertise-addr`), when it is not in a swarm yet"),
    dataPathPort: z
      .number()
      .int()
      .min(1024)
      .max(49151)
      .optional()
      .describe("the overlay networks' VXLAN port (default 4789); fixed when the swarm is created"),
    nodes: z
      .array(
        z.strictObject({
          name: z.string().regex(NODE_NAME, 'a node hostname; its worker runs `sciops worker --node NAME`'),
          advertiseAddr: z.string().refine(isIPv4, 'not an IPv4 address').optional().describe('the address the node joins with'),
          labels: labels.describe('node labels that placement constraints use, e.g. gpu: "true"'),
        }),
      )
      .default([])
      .describe(
        'nodes that must be in the swarm (joined through their own worker) and their labels; the manager may be listed for its labels',
      ),
  })
  .superRefine((swarm, ctx) => {
    const seen = new Set<string>();
    swarm.nodes.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `"${n.name}" is listed twice` });
      seen.add(n.name);
    });
  });

const runnerSchema = z
  .strictObject({
    name: name('runner'),
    service: name('service').describe("the stack's service whose container runs gitlab-runner"),
    type: z.enum(['instance_type', 'group_type', 'project_type']).default('instance_type'),
    groupId: z.number().int().positive().optional(),
    projectId: z.number().int().positive().optional(),
    executor: z.enum(['shell', 'docker', 'docker-autoscaler', 'kubernetes', 'custom']).default('docker'),
    dockerImage: z.string().min(1).optional().describe('the default job image (the docker executor needs one)'),
    tags: z.array(z.string().regex(/^[^,\s]+$/, 'a tag without commas or spaces')).default([]),
    runUntagged: z.boolean().default(false),
    onlineSeconds: z.number().int().min(5).max(3600).default(120).describe('how long the runner may take to come online'),
  })
  .superRefine((r, ctx) => {
    if (r.type === 'group_type' && r.groupId === undefined)
      ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'a group runner needs groupId' });
    if (r.type === 'project_type' && r.projectId === undefined)
      ctx.addIssue({ code: 'custom', path: ['projectId'], message: 'a project runner needs projectId' });
    if (r.executor === 'docker' && r.dockerImage === undefined)
      ctx.addIssue({ code: 'custom', path: ['dockerImage'], message: 'the docker executor needs a default job image' });
  });

const migrationSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a name such as 001_create_tables; steps run in the order given'),
    sql: z.string().min(1).optional().describe('SQL applied once, in a transaction'),
    file: z
      .string()
      .regex(/^\/\S*$/, 'an absolute path to a .sql file on the db worker')
      .optional()
      .describe(
        'SQL applied once, in a transaction, read from a file on the db worker, under a directory of its SCIOPS_MIGRATION_FILE_ROOTS',
      ),
    exec: z
      .strictObject({
        service: name('service'),
        command: z.array(z.string()).min(1, 'the command to run in a running task of the service'),
        unless: z
          .array(z.string())
          .min(1, 'the idempotence guard: a command that exits 0 when the step is already done')
          .describe('the idempotence guard: a command that exits 0 when the step is already done'),
      })
      .optional(),
  })
  .superRefine((m, ctx) => {
    if ([m.sql, m.file, m.exec].filter((v) => v !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of sql, file, exec' });
    }
  });

/** A platform stack: what `sciops deploy` makes exist on the swarm. */
export const stackSpecSchema = z
  .strictObject({
    name: stackName,
    swarm: swarmSchema.optional().describe('init the swarm on the manager if needed, join nodes, label them'),
    volumes: z.array(volumeSchema).default([]),
    networks: z.array(networkSchema).default([]),
    secrets: z.array(secretSchema).default([]),
    configs: z.array(configSchema).default([]),
    services: z.array(serviceSchema).default([]),
    detach: z
      .boolean()
      .default(false)
      .describe(
        'create and update the services without waiting for them to converge, as docker stack deploy --detach (runners and migrations need converged services: none may be given)',
      ),
    withRegistryAuth: z
      .boolean()
      .default(false)
      .describe(
        "send the manager worker's registry credentials (its docker config) to the swarm agents, as docker stack deploy --with-registry-auth",
      ),
    database: z
      .strictObject({
        urlEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable')
          .default('DATABASE_URL')
          .describe("the variable, on the db worker, holding the platform database's URL (never the URL itself)"),
      })
      .default({ urlEnv: 'DATABASE_URL' }),
    gitlab: z
      .strictObject({
        url: z
          .string()
          .superRefine((url, ctx) => {
            const problem = gitlabUrlProblem(url);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          })
          .describe(
            `the GitLab base URL, e.g. https://gitlab.example.org; its origin must be in ${GITLAB_URLS_SETTING} on the manager's worker`,
          ),
        tokenEnv: z
          .string()
          .superRefine((name, ctx) => {
            const problem = tokenEnvProblem(name);
            if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
          })
          .default(GITLAB_TOKEN_PREFIX)
          .describe(
            `the variable, on the manager's worker, holding an access token with the create_runner scope; its name starts with ${GITLAB_TOKEN_PREFIX}`,
          ),
      })
      .optional(),
    runners: z.array(runnerSchema).default([]).describe('GitLab runners registered in a service container after it converged'),
    migrations: z.array(migrationSchema).default([]).describe('after the services converged, in order; each applied once'),
  })
  .superRefine((stack, ctx) => {
    // An exec step or a runner needs a running task of its service: one scaled to 0 would be waited for forever.
    const scaledToZero = (name: string) => stack.services.some((s) => s.name === name && s.mode === 'replicated' && s.replicas === 0);
    const noTaskIn = (name: string, what: string) =>
      `service "${name}" has replicas: 0, so there is no task ${what}: give it replicas: 1 or more`;
    for (const kind of ['volumes', 'networks', 'secrets', 'configs', 'services', 'runners'] as const) {
      const seen = new Set<string>();
      stack[kind].forEach((item, i) => {
        if (seen.has(item.name)) ctx.addIssue({ code: 'custom', path: [kind, i, 'name'], message: `"${item.name}" is defined twice` });
        seen.add(item.name);
      });
    }
    const migrationNames = new Set<string>();
    stack.migrations.forEach((m, i) => {
      if (migrationNames.has(m.name))
        ctx.addIssue({ code: 'custom', path: ['migrations', i, 'name'], message: `"${m.name}" is defined twice` });
      migrationNames.add(m.name);
      if (m.exec !== undefined && !stack.services.some((s) => s.name === m.exec?.service)) {
        ctx.addIssue({ code: 'custom', path: ['migrations', i, 'exec', 'service'], message: `no service "${m.exec.service}" in services` });
      }
      if (m.exec !== undefined && scaledToZero(m.exec.service)) {
        ctx.addIssue({ code: 'custom', path: ['migrations', i, 'exec', 'service'], message: noTaskIn(m.exec.service, 'the step runs in') });
      }
    });
    if (stack.detach && (stack.runners.length > 0 || stack.migrations.length > 0)) {
      ctx.addIssue({ code: 'custom', path: ['detach'], message: 'runners and migrations need converged services: deploy without detach' });
    }
    if (stack.runners.length > 0 && stack.gitlab === undefined) {
      ctx.addIssue({ code: 'custom', path: ['gitlab'], message: 'runners need gitlab: { url, tokenEnv }' });
    }
    stack.runners.forEach((r, i) => {
      if (!stack.services.some((s) => s.name === r.service))
        ctx.addIssue({ code: 'custom', path: ['runners', i, 'service'], message: `no service "${r.service}" in services` });
      if (scaledToZero(r.service)) {
        ctx.addIssue({ code: 'custom', path: ['runners', i, 'service'], message: noTaskIn(r.service, 'the runner registers in') });
      }
    });
    const defined = (kind: 'volumes' | 'networks' | 'secrets' | 'configs') => new Set(stack[kind].map((x) => x.name));
    const volumes = defined('volumes');
    const networks = defined('networks');
    const secrets = defined('secrets');
    const configs = defined('configs');
    stack.services.forEach((service, i) => {
      const at = (...path: Array<string | number>) => ['services', i, ...path];
      service.volumes.forEach((v, j) => {
        if (v.type === 'volume' && v.source !== undefined && !volumes.has(v.source))
          ctx.addIssue({ code: 'custom', path: at('volumes', j, 'source'), message: `no volume "${v.source}" in volumes` });
      });
      service.networks.forEach((n, j) => {
        if (!networks.has(n.name)) ctx.addIssue({ code: 'custom', path: at('networks', j), message: `no network "${n.name}" in networks` });
      });
      service.secrets.forEach((s, j) => {
        if (!secrets.has(s.source)) ctx.addIssue({ code: 'custom', path: at('secrets', j), message: `no secret "${s.source}" in secrets` });
      });
      service.configs.forEach((c, j) => {
        if (!configs.has(c.source)) ctx.addIssue({ code: 'custom', path: at('configs', j), message: `no config "${c.source}" in configs` });
      });
    });
  });

export type StackSpec = z.infer<typeof stackSpecSchema>;
export { inCidr, isCidr, isIPv4 } from './spec-fields';
export type { ConfigSpec, NetworkSpec, SecretSpec, VolumeSpec } from './stack-objects';
export type { MountSpec, ServiceSpec } from './stack-service';
export type MigrationSpec = StackSpec['migrations'][number];
export type SwarmSpec = NonNullable<StackSpec['swarm']>;
export type RunnerSpec = StackSpec['runners'][number];
export type GitlabSpec = NonNullable<StackSpec['gitlab']>;

/** How a stack's runner is known in GitLab: its description. Teardown finds the stack's runners by it. */
export function runnerDescription(stack: string, runner: string): string {
  return `sciops:${stack}/${runner}`;
}

/** The name a stack's resource has on the swarm, as `docker stack deploy` would name it. */
export function resourceName(stack: string, name: string): string {
  return `${stack}_${name}`;
}

/** An object's name on the swarm: the one the spec gives (`dockerName`, compose `name:`), else `<stack>_<name>`. Pure. */
export function swarmName(
  stack: string,
  object: { readonly name: string; readonly dockerName?: string; readonly external?: boolean },
): string {
  // An external object without `name:` is known by its key alone, as docker's loader has it.
  return object.dockerName ?? (object.external === true ? object.name : resourceName(stack, object.name));
}

/** What deployStack returns (and `sciops deploy` prints): every resource and what happened to it. */
export interface DeployReport {
  readonly stack: string;
  readonly changes: readonly PlannedChange[];
  /** True when the deploy changed nothing. */
  readonly unchanged: boolean;
  /** Migration steps applied (or exec steps run) by this deploy; the others had been done before. */
  readonly migrated: readonly string[];
  /** Generated secrets: where their value waits, once, for the operator (mode 0600, on the manager's worker). */
  readonly secretFiles: readonly string[];
}

export const teardownInputSchema = z.strictObject({
  stack: stackName,
  purge: z.boolean().default(false).describe('also remove the volumes (their data!) and secrets'),
});

export interface TeardownReport {
  readonly stack: string;
  readonly removed: readonly string[];
  /** Kept because purge was not asked for. */
  readonly kept: readonly string[];
}
