import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc shows it: enough to tell it from a later one that got the same pid. */
export interface ProcessStamp {
  readonly pid: number;
  readonly started: string;
  readonly command: string;
}

/** pid, parent pid, start time and command of a process; undefined once it is gone or only a zombie. */
function stat(pid: number): { ppid: number; stamp: ProcessStamp } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after its last ')'.
  const close = text.lastIndexOf(')');
  const command = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return { ppid: Number(fields[1]), stamp: { pid, started: fields[19] as string, command } };
}

/** Every live process descended from `root` (not `root` itself), read from /proc now. */
export function descendants(root: number): ProcessStamp[] {
  const children = new Map<number, ProcessStamp[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (s === undefined) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.stamp]);
  }
  const found: ProcessStamp[] = [];
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(root);
  return found;
}

/** Those of `stamps` still running (the same process: same pid and start time). */
export function stillRunning(stamps: readonly ProcessStamp[]): ProcessStamp[] {
  return stamps.filter((s) => stat(s.pid)?.stamp.started === s.started);
}
