// One GET over HTTP or HTTPS (by the URL's scheme) with the caller's options (CA, client
// certificate, an agent that dials inside the cluster), for the local cluster's readiness checks,
// the portal, the benchmarks and the e2e tests.
import http from 'node:http';
import https from 'node:https';

export function httpGet(url: string, options: https.RequestOptions, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const lib = new URL(url).protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { ...options, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export const httpsGet = httpGet;
