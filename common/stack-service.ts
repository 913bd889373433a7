import { z } from 'zod';
import { absolutePath, byteSize, duration, labels, shortForm, specName } from './spec-fields';

/**
 * One service of a stack, with what compose files give a swarm service. `command` means what it means in
 * compose (the image's CMD: docker's Args) and `entrypoint` replaces the image's ENTRYPOINT.
 */

const words = z.array(z.string());

/** A secret or config as a service mounts it; a bare name mounts it at its default target. */
const fileReference = (what: 'secret' | 'config') =>
  shortForm(
    'source',
    z.strictObject({
      source: specName(what).describe(`a ${what} of the stack`),
      target: z
        .string()
        .min(1)
        .optional()
        .describe(what === 'secret' ? 'a file name under /run/secrets (default: the name) or an absolute path' : 'default: /<name>'),
      uid: z.string().regex(/^\d+$/, 'a numeric user id').default('0'),
      gid: z.string().regex(/^\d+$/, 'a numeric group id').default('0'),
      mode: z.number().int().min(0).max(0o777).default(0o444).describe('file mode, e.g. 0o440 (JSON: 288)'),
    }),
  );

const mountSchema = z
  .strictObject({
    type: z.enum(['volume', 'bind', 'tmpfs']).default('volume'),
    source: z.string().min(1).optional().describe('volume: a volume of the stack (none: anonymous); bind: an absolute path on the node'),
    target: absolutePath('in the container'),
    readOnly: z.boolean().default(false),
    consistency: z.string().optional(),
    propagation: z.enum(['rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave']).optional().describe('bind mounts'),
    nocopy: z.boolean().optional().describe("volume mounts: do not copy the image's files into a new volume"),
    subpath: z.string().optional().describe('volume mounts: mount this path inside the volume'),
    tmpfsSize: byteSize.optional().describe('tmpfs mounts: size, e.g. 64M'),
    tmpfsMode: z.number().int().min(0).max(0o7777).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.type === 'bind' && (m.source === undefined || !m.source.startsWith('/')))
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'a bind mount needs an absolute host path' });
    if (m.type === 'tmpfs' && m.source !== undefined)
      ctx.addIssue({ code: 'custom', path: ['source'], message: 'a tmpfs mount has no source' });
  });

const networkAttachment = shortForm(
  'name',
  z.strictObject({
    name: specName('network'),
    aliases: z.array(z.string().min(1)).default([]).describe('besides the service name, which is always an alias'),
    driverOpts: z.record(z.string(), z.string()).optional(),
  }),
);

const updateConfig = (failureActions: readonly [string, ...string[]]) =>
  z
    .strictObject({
      parallelism: z.number().int().min(0).default(1).describe('tasks updated at once (0: all)'),
      delay: duration.optional(),
      failureAction: z.enum(failureActions).optional(),
      monitor: duration.optional(),
      maxFailureRatio: z.number().min(0).max(1).optional(),
      order: z.enum(['stop-first', 'start-first']).optional(),
    })
    .optional();

// Docker takes CPUs as an int64 of nano-CPUs: beyond a few billion the engine gets null.
const cpus = z.number().positive().max(4096, 'at most 4096 CPUs').describe('CPUs, e.g. 0.5');

export const serviceSchema = z
  .strictObject({
    name: specName('service'),
    image: z.string().regex(/^\S+$/, 'name an image (no spaces)'),
    command: words.optional().describe("the image's CMD replaced (compose `command`)"),
    entrypoint: words.optional().describe("the image's ENTRYPOINT replaced (compose `entrypoint`)"),
    env: z
      .record(z.string().regex(/^[^=\s]+$/, 'an environment variable name, without = or spaces'), z.string().nullable())
      .default({})
      .describe('null: the variable is passed without a value'),
    labels: labels.describe('service labels (compose deploy.labels)'),
    containerLabels: labels.describe('container labels (compose labels)'),
    secrets: z.array(fileReference('secret')).default([]).describe('mounted at /run/secrets/<target>'),
    configs: z.array(fileReference('config')).default([]),
    volumes: z.array(mountSchema).default([]),
    networks: z.array(networkAttachment).default([]),
    ports: z
      .array(
        z.strictObject({
          published: z.number().int().min(1).max(65535).optional(),
          target: z.number().int().min(1).max(65535),
          protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
          mode: z.enum(['ingress', 'host']).default('ingress'),
        }),
      )
      .default([]),
    mode: z.enum(['replicated', 'global']).default('replicated').describe('global: one task on every eligible node'),
    replicas: z.number().int().min(0).max(1000).optional().describe('replicated services (default 1)'),
    constraints: z.array(z.string().regex(/^\S+\s*(==|!=)\s*\S+$/, 'a swarm constraint such as node.labels.gpu==true')).default([]),
    preferences: z.array(z.string().min(1)).default([]).describe('spread descriptors, e.g. node.labels.zone'),
    maxReplicasPerNode: z.number().int().min(1).optional(),
    resources: z
      .strictObject({
        limits: z.strictObject({ cpus: cpus.optional(), memory: byteSize.optional(), pids: z.number().int().min(1).optional() }).optional(),
        reservations: z
          .strictObject({
            cpus: cpus.optional(),
            memory: byteSize.optional(),
            genericResources: z.array(z.strictObject({ kind: z.string().min(1), value: z.number().int().min(1) })).default([]),
          })
          .optional(),
      })
      .default({}),
    restartPolicy: z
      .strictObject({
        condition: z.enum(['none', 'on-failure', 'any']).default('any'),
        delay: duration.optional(),
        maxAttempts: z.number().int().min(0).optional(),
        window: duration.optional(),
      })
      .optional()
      .describe('none or on-failure: a service meant to finish; it converges when its tasks completed'),
    update: updateConfig(['pause', 'continue', 'rollback']),
    rollback: updateConfig(['pause', 'continue']),
    endpointMode: z.enum(['vip', 'dnsrr']).optional(),
    healthcheck: z
      .strictObject({
        test: words.optional().describe('["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]'),
        interval: duration.optional(),
        timeout: duration.optional(),
        retries: z.number().int().min(0).optional(),
        startPeriod: duration.optional(),
        startInterval: duration.optional(),
        disable: z.boolean().default(false),
      })
      .optional()
      .describe('a task counts as converged once healthy'),
    stopGracePeriod: duration.optional(),
    stopSignal: z.string().min(1).optional(),
    hostname: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    workingDir: z.string().min(1).optional(),
    init: z.boolean().optional(),
    capAdd: z.array(z.string().min(1)).default([]),
    capDrop: z.array(z.string().min(1)).default([]),
    sysctls: z.record(z.string(), z.string()).default({}),
    ulimits: z.record(z.string(), z.strictObject({ soft: z.number().int(), hard: z.number().int() })).default({}),
    extraHosts: z.array(z.string().regex(/^[^:\s]+:\S+$/, 'host:address')).default([]),
    dns: z.array(z.string().min(1)).default([]),
    dnsSearch: z.array(z.string().min(1)).default([]),
    logging: z.strictObject({ driver: z.string().min(1), options: z.record(z.string(), z.string()).default({}) }).optional(),
    readOnly: z.boolean().default(false),
    tty: z.boolean().default(false),
    stdinOpen: z.boolean().default(false),
    convergeSeconds: z.number().int().min(5).max(3600).default(120).describe('how long its tasks may take to run (or finish)'),
  })
  .superRefine((s, ctx) => {
    if (s.mode === 'global' && s.replicas !== undefined)
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'a global service runs one task per node: remove replicas' });
    if (s.healthcheck?.disable === true && s.healthcheck.test !== undefined)
      ctx.addIssue({ code: 'custom', path: ['healthcheck', 'test'], message: 'test and disable cannot be set together' });
    if (s.endpointMode === 'dnsrr' && s.ports.some((p) => p.mode === 'ingress'))
      ctx.addIssue({ code: 'custom', path: ['ports'], message: 'endpointMode dnsrr cannot publish ingress ports; use mode: host' });
  });

export type ServiceSpec = z.infer<typeof serviceSchema>;
export type MountSpec = ServiceSpec['volumes'][number];
