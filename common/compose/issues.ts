import { InputError } from '../errors';
import { fieldPath } from '../validate';

/** A path of keys and list indexes into a compose document: `['services', 'web', 'ports', 0]`. */
export type KeyPath = readonly (string | number)[];

/** Where something is in one compose file: the file as the operator names it, a 1-based line and column, the key path. */
export interface Where {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: KeyPath;
}

/** One issue line: `docker-compose.yml:12:9 services.web.deploy.replicas: <problem and the fix>`. */
export function issueAt(where: Where, problem: string): string {
  return `${where.file}:${where.line}:${where.col} ${fieldPath(where.path)}: ${problem}`;
}

/**
 * The issues found while loading compose files, collected so that one run reports every problem it can.
 * `fail()` throws them as one InputError naming the files they are in.
 */
export class Issues {
  private readonly lines: string[] = [];
  private readonly files: string[] = [];

  add(where: Where, problem: string): void {
    this.addLine(where.file, issueAt(where, problem));
  }

  /** An issue already formatted (it starts with `FILE:LINE:COL`). */
  addLine(file: string, line: string): void {
    this.lines.push(line);
    if (!this.files.includes(file)) this.files.push(file);
  }

  get count(): number {
    return this.lines.length;
  }

  /** Throws the collected issues, if there are any. */
  throwIfAny(): void {
    if (this.lines.length === 0) return;
    const what = this.files.length === 1 ? `compose file ${this.files[0]}` : `compose files ${this.files.join(', ')}`;
    throw new InputError(what, this.lines);
  }
}

/** How a value reads in a message: strings quoted, everything else as YAML would show it. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** Sets a key on a record even when the key is `__proto__` (a key a compose file may hold like any other). */
export function put<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}
