import type { WorkflowHandle } from '@temporalio/client';

/**
 * A workflow's whole history as searchable text: the events as JSON, plus every payload's bytes decoded as
 * UTF-8 (in the JSON they are base64, where a plaintext search would find nothing whatever they held).
 */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof Uint8Array) decoded.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(history);
  if (decoded.length === 0) throw new Error('no payload found in the history: the scan would prove nothing');
  return `${JSON.stringify(history)}\n${decoded.join('\n')}`;
}
