import http from 'node:http';
import https from 'node:https';

export interface GitlabResponse {
  readonly status: number;
  readonly text: string;
  readonly nextPage: string;
}

/**
 * One HTTP request to GitLab, over node's client rather than fetch: it takes the CA of a GitLab with a private
 * certificate authority (SCIOPS_GITLAB_CA_FILE), and it follows no redirect, so the token in the headers goes
 * to the URL given and nowhere else.
 */
export function gitlabRequest(
  url: URL,
  options: { method: string; headers: Record<string, string>; body?: string; ca?: Buffer; timeoutMs: number },
): Promise<GitlabResponse> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: options.method,
        headers: options.body === undefined ? options.headers : { ...options.headers, 'Content-Length': Buffer.byteLength(options.body) },
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const next = res.headers['x-next-page'];
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            nextPage: typeof next === 'string' ? next : '',
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
