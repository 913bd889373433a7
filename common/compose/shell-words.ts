/**
 * Splits a `command` or `entrypoint` string into words the way docker's compose loader does (it uses
 * github.com/google/shlex): words are separated by spaces, tabs and newlines; `'...'` keeps everything literally;
 * `"..."` keeps everything but lets a backslash escape the next character; a backslash outside quotes escapes the next
 * character; a `#` at the start of a word starts a comment that runs to the end of the line. Throws on an unclosed
 * quote or a trailing backslash.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const chars = Array.from(text);
  const n = chars.length;
  while (i < n) {
    const c = chars[i] as string;
    if (word === undefined) {
      if (isSpace(c)) {
        i += 1;
        continue;
      }
      if (c === '#') {
        while (i < n && chars[i] !== '\n') i += 1;
        continue;
      }
      word = '';
    }
    if (isSpace(c)) {
      words.push(word);
      word = undefined;
      i += 1;
    } else if (c === "'") {
      const end = chars.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed single quote in ${JSON.stringify(text)}`);
      word += chars.slice(i + 1, end).join('');
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      let closed = false;
      while (i < n) {
        const d = chars[i] as string;
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (d === '\\') {
          if (i + 1 >= n) throw new Error(`backslash at the end of ${JSON.stringify(text)}`);
          word += chars[i + 1];
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      if (!closed) throw new Error(`unclosed double quote in ${JSON.stringify(text)}`);
    } else if (c === '\\') {
      if (i + 1 >= n) throw new Error(`backslash at the end of ${JSON.stringify(text)}`);
      word += chars[i + 1];
      i += 2;
    } else {
      word += c;
      i += 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}
