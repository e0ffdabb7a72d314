// Runs one readiness/liveness/startup probe against the pod's address, as kubelet would:
// httpGet (2xx/3xx is success) and tcpSocket. exec and grpc probes cannot run outside a container
// runtime, so they fail with a message saying so.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { V1Container, V1Probe } from '@kubernetes/client-node';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export function resolvePort(port: number | string | undefined, container: V1Container): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

export function probeOnce(probe: V1Probe, container: V1Container, podIP: string): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const g = probe.httpGet;
    const port = resolvePort(g.port as number | string, container);
    if (port === undefined) return Promise.resolve({ ok: false, message: `httpGet port ${String(g.port)} is not a container port` });
    const client = g.scheme === 'HTTPS' ? https : http;
    const headers = Object.fromEntries((g.httpHeaders ?? []).map((h) => [h.name, h.value]));
    return new Promise((resolve) => {
      const req = client.get(
        { host: g.host ?? podIP, port, path: g.path ?? '/', headers, timeout: timeoutMs, rejectUnauthorized: false, agent: false },
        (res) => {
          res.resume();
          const code = res.statusCode ?? 0;
          resolve({ ok: code >= 200 && code < 400, message: `HTTP probe ${g.path ?? '/'} on ${podIP}:${port} returned ${code}` });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ ok: false, message: `HTTP probe on ${podIP}:${port} failed: ${err.message}` }));
    });
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port as number | string, container);
    if (port === undefined) return Promise.resolve({ ok: false, message: `tcpSocket port ${String(probe.tcpSocket.port)} is not a container port` });
    return new Promise((resolve) => {
      const sock = net.connect({ host: probe.tcpSocket!.host ?? podIP, port, timeout: timeoutMs });
      sock.once('connect', () => {
        sock.destroy();
        resolve({ ok: true, message: `TCP probe on ${podIP}:${port} connected` });
      });
      sock.once('timeout', () => {
        sock.destroy();
        resolve({ ok: false, message: `TCP probe on ${podIP}:${port} timed out after ${timeoutMs} ms` });
      });
      sock.once('error', (err) => resolve({ ok: false, message: `TCP probe on ${podIP}:${port} failed: ${err.message}` }));
    });
  }
  const kind = probe.exec ? 'exec' : probe.grpc ? 'grpc' : 'empty';
  return Promise.resolve({ ok: false, message: `${kind} probes are not supported by the node simulator; use httpGet or tcpSocket` });
}
