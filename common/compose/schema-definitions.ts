import { z } from 'zod';
import {
  bool,
  boolOrString,
  command,
  int,
  intOrString,
  listOfStrings,
  listOrDict,
  numOrString,
  open,
  optional,
  patternRecord,
  str,
  stringArray,
  stringOrList,
  unique,
  withExtensions,
} from './schema-parts';

/**
 * The definitions of the Compose Specification's JSON schema that a service refers to (`deployment`, `healthcheck`,
 * `development`, `ulimits`, `extra_hosts`, `service_config_or_secret`, `gpus`, `devices`, `service_hook`), and its
 * `build` object, written out in zod as `schema-service.ts` explains.
 */

export const ulimits = patternRecord(/^[a-z]+$/, z.union([intOrString, withExtensions({ hard: intOrString, soft: intOrString })]), false);

export const extraHosts = z.union([patternRecord(/.+/, z.union([z.string(), z.array(z.string())]), true), unique(z.array(z.string()))]);

export const serviceConfigOrSecret = z.array(
  z.union([str, withExtensions(optional({ source: str, target: str, uid: str, gid: str, mode: numOrString }))]),
);

const deviceRequests = z.array(
  withExtensions({
    capabilities: listOfStrings,
    ...optional({ count: z.union([z.string(), int]), device_ids: listOfStrings, driver: str, options: listOrDict }),
  }),
);

export const gpus = z.union([
  z.literal('all'),
  z.array(
    open(
      optional({
        capabilities: listOfStrings,
        count: z.union([z.string(), int]),
        device_ids: listOfStrings,
        driver: str,
        options: listOrDict,
      }),
    ),
  ),
]);

const updateConfig = withExtensions(
  optional({
    parallelism: intOrString,
    delay: str,
    failure_action: str,
    monitor: str,
    max_failure_ratio: numOrString,
    order: z.enum(['start-first', 'stop-first']),
  }),
);

export const deployment = z.union([
  z.null(),
  withExtensions(
    optional({
      mode: str,
      endpoint_mode: str,
      replicas: intOrString,
      labels: listOrDict,
      rollback_config: updateConfig,
      update_config: updateConfig,
      resources: withExtensions(
        optional({
          limits: withExtensions(optional({ cpus: numOrString, memory: str, pids: intOrString })),
          reservations: withExtensions(
            optional({
              cpus: numOrString,
              memory: str,
              generic_resources: z.array(
                withExtensions(optional({ discrete_resource_spec: withExtensions(optional({ kind: str, value: numOrString })) })),
              ),
              devices: deviceRequests,
            }),
          ),
        }),
      ),
      restart_policy: withExtensions(optional({ condition: str, delay: str, max_attempts: intOrString, window: str })),
      placement: withExtensions(
        optional({
          constraints: stringArray,
          preferences: z.array(withExtensions(optional({ spread: str }))),
          max_replicas_per_node: intOrString,
        }),
      ),
    }),
  ),
]);

export const healthcheck = withExtensions(
  optional({
    disable: boolOrString,
    interval: str,
    retries: numOrString,
    test: z.union([str, stringArray]),
    timeout: str,
    start_period: str,
    start_interval: str,
  }),
);

export const serviceHook = withExtensions({
  command,
  ...optional({ user: str, privileged: boolOrString, working_dir: str, environment: listOrDict }),
});

export const development = z.union([
  z.null(),
  withExtensions(
    optional({
      watch: z.array(
        withExtensions({
          path: str,
          action: z.enum(['rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec']),
          ...optional({ ignore: stringOrList, include: stringOrList, target: str, exec: serviceHook, initial_sync: bool }),
        }),
      ),
    }),
  ),
]);

export const build = z.union([
  str,
  withExtensions(
    optional({
      context: str,
      dockerfile: str,
      dockerfile_inline: str,
      entitlements: stringArray,
      args: listOrDict,
      ssh: listOrDict,
      labels: listOrDict,
      cache_from: stringArray,
      cache_to: stringArray,
      no_cache: boolOrString,
      additional_contexts: listOrDict,
      network: str,
      provenance: boolOrString,
      sbom: boolOrString,
      pull: boolOrString,
      target: str,
      shm_size: intOrString,
      extra_hosts: extraHosts,
      isolation: str,
      privileged: boolOrString,
      secrets: serviceConfigOrSecret,
      tags: stringArray,
      ulimits,
      platforms: stringArray,
    }),
  ),
]);
