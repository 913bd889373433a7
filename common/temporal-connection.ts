import { loadClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError, UnreachableError } from './errors';

type ConnectionOptions = ReturnType<typeof loadClientConnectConfig>['connectionOptions'];

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export interface TemporalTarget {
  readonly connectionOptions: ConnectionOptions;
  readonly namespace: string;
  /** The address, for messages. */
  readonly address: string;
}

/**
 * Where the Temporal server is, by Temporal's own conventions: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, and profiles from TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE.
 * Used by both the CLI and the workers, so both reach the same server.
 */
export function loadTemporalTarget(): TemporalTarget {
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig();
  } catch (err) {
    const setting = process.env.TEMPORAL_PROFILE ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE';
    throw new ConfigError(setting, `the Temporal client configuration cannot be read: ${(err as Error).message}`);
  }
  const address = loaded.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (!/^[^\s:/]+:\d{1,5}$/.test(address) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(address)) {
    throw new ConfigError('TEMPORAL_ADDRESS', `"${address}" is not host:port (e.g. localhost:7233)`);
  }
  return {
    connectionOptions: { ...loaded.connectionOptions, address },
    namespace: loaded.namespace ?? 'default',
    address,
  };
}

/** The error to show when connecting to Temporal failed: one sentence naming TEMPORAL_ADDRESS and the fix. */
export function temporalUnreachable(target: TemporalTarget, err: unknown): UnreachableError {
  const detail = (err as Error)?.message?.split('\n')[0] ?? String(err);
  return new UnreachableError(
    'TEMPORAL_ADDRESS',
    `the Temporal server at ${target.address}`,
    detail,
    'Start one with `npm run dev` (or `sciops dev`), or set TEMPORAL_ADDRESS to a running server.',
  );
}
