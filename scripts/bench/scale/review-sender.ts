// The scale benchmark's review load, run inside the cluster's network namespace next to the
// webhook (as the API server would call it, without the host forward in between): reviews at a
// steady rate over a keep-alive HTTPS pool, each timed from its scheduled moment (as in
// admission.ts), after a warm-up at the same rate that opens the pool's connections.
//   node review-sender.js PLAN.json RESULT.json
// PLAN: { url, ca, rate, warmupSeconds, seconds, sockets, reviews: [{ kind, path, body, allowed }] }
// RESULT: { byKind: { kind: ms[] }, failures, wrongAnswers: { kind: n }, examples: { kind: message } }
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

interface PlannedReview {
  kind: string;
  path: string;
  body: string;
  allowed: boolean;
}

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { url: string; ca: string; rate: number; warmupSeconds: number; seconds: number; sockets: number; reviews: PlannedReview[] };
const agent = new https.Agent({ keepAlive: true, maxSockets: plan.sockets, ca: plan.ca });
let cursor = 0;

async function run(count: number, record: boolean) {
  const byKind: Record<string, number[]> = {};
  const wrongAnswers: Record<string, number> = {};
  const examples: Record<string, string> = {};
  let failures = 0;
  const one = (r: PlannedReview, scheduled: number) =>
    new Promise<void>((resolve) => {
      const req = https.request(`${plan.url}${r.path}?timeout=10s`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - scheduled;
          if (res.statusCode !== 200) failures++;
          else if (record) {
            (byKind[r.kind] ??= []).push(ms);
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { response?: { allowed?: boolean; status?: { message?: string }; warnings?: string[] } };
            if (answer.response?.allowed !== r.allowed) {
              wrongAnswers[r.kind] = (wrongAnswers[r.kind] ?? 0) + 1;
              examples[r.kind] ??= answer.response?.status?.message ?? JSON.stringify(answer.response).slice(0, 400);
            } else if (!examples[r.kind]) {
              examples[r.kind] = (answer.response?.status?.message ?? answer.response?.warnings?.join(' ') ?? 'allowed').slice(0, 400);
            }
          }
          resolve();
        });
      });
      req.on('error', () => {
        failures++;
        resolve();
      });
      req.end(r.body);
    });
  const t0 = performance.now() + 50;
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const at = t0 + (i * 1000) / plan.rate;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    const r = plan.reviews[cursor++ % plan.reviews.length]!;
    inFlight.push(one(r, Math.min(at, performance.now())));
  }
  await Promise.all(inFlight);
  return { byKind, failures, wrongAnswers, examples };
}

await run(Math.round(plan.rate * plan.warmupSeconds), false);
const result = await run(Math.round(plan.rate * plan.seconds), true);
agent.destroy();
writeFileSync(process.argv[3]!, JSON.stringify(result));
process.exit(0);
