/**
 * Path arithmetic for compose files, without Node's `path` (this code also runs inside workflow bundles): POSIX paths
 * as docker's loader handles them on Linux (`filepath.Join`, `filepath.Clean`), plus recognition of Windows absolute
 * paths, which docker leaves as they are.
 */

/** Whether docker takes `p` as absolute: `/x`, or a Windows drive or UNC path (`C:\x`, `\\host\share`). */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** `filepath.Clean`: drops `.` and empty segments, resolves `..`, no trailing slash (except the root). */
export function cleanPath(p: string): string {
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(segment);
  }
  const joined = out.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** `absPath` of docker's loader: `p` as it is when absolute, else joined to `dir` and cleaned. */
export function resolvePath(dir: string, p: string): string {
  return isAbsolutePath(p) ? p : cleanPath(`${dir}/${p}`);
}

/** The directory of an absolute file path (`/a/b/c.yml` -> `/a/b`). */
export function dirOf(file: string): string {
  const i = file.lastIndexOf('/');
  if (i <= 0) return '/';
  return file.slice(0, i);
}

/** `file` relative to `dir` when it lies inside it (`/p/a/b.yml` from `/p` -> `a/b.yml`), else `file` itself. */
export function displayPath(file: string, dir: string): string {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : file;
}
