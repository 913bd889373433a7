import type { NativeConnection } from '@temporalio/worker';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../common/search-attributes';

/**
 * The sciops search attributes the namespace lacks, as one warning line with the command that registers
 * them; undefined when all are there. Without them the server refuses every workflow task that sets one
 * (runExperiment's first), so a workflow worker says so at start instead of failing task after task.
 */
export async function searchAttributeWarning(connection: NativeConnection, namespace: string): Promise<string | undefined> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SEARCH_ATTRIBUTES.filter((key) => customAttributes?.[key.name] === undefined);
  if (missing.length === 0) return undefined;
  const commands = missing.map(
    (key) => `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type ${cliTypeName(key)}`,
  );
  return `namespace ${namespace} lacks the search attributes ${missing.map((key) => key.name).join(', ')}: experiments cannot start until they exist; register them with: ${commands.join(' && ')}`;
}
