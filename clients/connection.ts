import { Client, Connection } from '@temporalio/client';
import { loadTemporalTarget, type TemporalTarget, temporalUnreachable } from '../common/temporal-connection';

export interface Connected {
  readonly client: Client;
  readonly target: TemporalTarget;
  close(): Promise<void>;
}

/** Connects to the Temporal server named by Temporal's own settings; an unreachable server is one clear error. */
export async function connectClient(): Promise<Connected> {
  const target = loadTemporalTarget();
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...target.connectionOptions, connectTimeout: '5s' });
  } catch (err) {
    throw temporalUnreachable(target, err);
  }
  return {
    client: new Client({ connection, namespace: target.namespace }),
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
