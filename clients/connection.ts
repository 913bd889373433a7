import { Client, Connection } from '@temporalio/client';
import { clientDataConverter, loadPayloadCodec } from '../common/codec-keys';
import { loadTemporalTarget, type TemporalTarget, temporalUnreachable } from '../common/temporal-connection';

export interface Connected {
  readonly client: Client;
  readonly target: TemporalTarget;
  close(): Promise<void>;
}

/**
 * Connects to the Temporal server named by Temporal's own settings, with the payload codec when a key is configured
 * (so Schedules created here carry encrypted input too); an unreachable server is one clear error.
 */
export async function connectClient(): Promise<Connected> {
  const target = loadTemporalTarget();
  const codec = loadPayloadCodec(process.env);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...target.connectionOptions, connectTimeout: '5s' });
  } catch (err) {
    throw temporalUnreachable(target, err);
  }
  return {
    client: new Client({ connection, namespace: target.namespace, dataConverter: clientDataConverter(codec) }),
    target,
    close: () => connection.close(),
  };
}

/** Runs `work` with a connected client, closing the connection afterwards whatever happens. */
export async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const { client, close } = await connectClient();
  try {
    return await work(client);
  } finally {
    await close();
  }
}
