import type { LogEntry } from '@temporalio/worker';

/** Metadata keys whose values are never written, whatever logs them. */
const SECRET_KEY = /pass(word)?|secret|token|api.?key|credential|private/i;
/** user:password@ in a URL, the user possibly empty (`postgres://:pw@host`). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;
/** `password=...`, `token: ...` and the like in a message (libpq connection strings, tools' own output). */
const KEY_VALUE = /\b((?:pass(?:word)?|secret|token|api[_-]?key)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi;

/** A message or value with any URL password and any password= / token: value replaced. Pure. */
export function redact(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(KEY_VALUE, '$1***');
}

function cleanMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value === undefined) continue;
    if (SECRET_KEY.test(key)) out[key] = '***';
    else if (typeof value === 'string') out[key] = redact(value);
    else if (value instanceof Error) out[key] = redact(value.message);
    else if (typeof value === 'bigint') out[key] = value.toString();
    else out[key] = value;
  }
  return out;
}

/**
 * One log line: JSON (time, level, msg, then the SDK's context such as workflowId, runId, activityId,
 * activityType, taskQueue) for log collectors, or text for a terminal. Secrets stay out: metadata keys that
 * name one are masked, URL passwords are replaced. Pure.
 */
export function formatLogLine(entry: LogEntry, format: 'json' | 'text'): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = cleanMeta(entry.meta as Record<string, unknown> | undefined);
  const message = redact(entry.message);
  if (format === 'json') return JSON.stringify({ time, level: entry.level.toLowerCase(), msg: message, ...meta });
  const context = Object.entries(meta)
    .filter(([key]) => ['workflowId', 'activityId', 'activityType', 'taskQueue', 'sdkComponent'].includes(key))
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  return `${time} ${entry.level.padEnd(5)} ${message}${context === '' ? '' : `  ${context}`}`;
}
