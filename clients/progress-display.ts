import type { Progress } from '../common/progress';

/** A byte stream a running activity reports in its heartbeat: a dump being written or a file being read back. */
export interface Transfer {
  readonly label: string;
  readonly bytes: number;
  /** Known when reading a file back (restore); unknown while a dump is written. */
  readonly total?: number;
}

/** Where a followed workflow's progress goes: step lines that stay, and one status line redrawn in place. */
export interface ProgressDisplay {
  line(text: string): void;
  status(text: string): void;
  close(): void;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** 1536 -> "1.5 kB". Pure. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** The transfer in an activity's heartbeat details (`{target|restoring, bytes, total?}`), if it is one. Pure. */
export function transferOf(details: unknown): Transfer | undefined {
  if (details === null || typeof details !== 'object') return undefined;
  const d = details as { target?: unknown; restoring?: unknown; bytes?: unknown; total?: unknown };
  if (typeof d.bytes !== 'number') return undefined;
  const label = typeof d.target === 'string' ? d.target : typeof d.restoring === 'string' ? d.restoring : 'data';
  return { label, bytes: d.bytes, ...(typeof d.total === 'number' && d.total > 0 ? { total: d.total } : {}) };
}

/** `[#######-------]  52%`. Pure. */
export function bar(done: number, total: number, width = 20): string {
  const share = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/**
 * The line redrawn while following: the current step, the time since following began, and for a backup
 * or restore the bytes streamed (a bar when the size is known). Pure.
 */
export function statusLine(progress: Progress | undefined, elapsedSeconds: number, transfer?: Transfer): string {
  const parts = [`${progress?.current ?? 'waiting for a worker'}`, `${elapsedSeconds}s`];
  if (transfer !== undefined) {
    parts.push(
      transfer.total === undefined
        ? `${transfer.label} ${formatBytes(transfer.bytes)}`
        : `${transfer.label} ${bar(transfer.bytes, transfer.total)} ${formatBytes(transfer.bytes)} of ${formatBytes(transfer.total)}`,
    );
  }
  return `… ${parts.join(' · ')}`;
}

/**
 * A display on a terminal stream: a step line erases the status line drawn before it, and the caller draws
 * the status anew after its lines (so a status line is never redrawn with what it said before them).
 */
export function terminalDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  let shown = false;
  const erase = () => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  return {
    line(text) {
      erase();
      stream.write(`${text}\n`);
    },
    status(text) {
      const width = stream.columns || 120; // 0 or unset: a terminal that does not say its width
      stream.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
      shown = true;
    },
    close: erase,
  };
}
