// A client of the demo app's TCP stream for inside a pod's network namespace (the e2e tests start
// it there, as `kubectl exec` would): opens COUNT connections to HOST:PORT and prints
// "<index> <line>" for every line each receives, "<index> closed" when one closes. It stops by
// itself after MAX_SECONDS, or when its stdin closes.
import net from 'node:net';

const [host, port, count, maxSeconds] = process.argv.slice(2);
if (!host || !port || !count || !maxSeconds) {
  console.error('usage: stream-client.mjs HOST PORT COUNT MAX_SECONDS');
  process.exit(2);
}
const sockets = [];
for (let i = 0; i < Number(count); i++) {
  const s = net.connect({ host, port: Number(port) });
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      process.stdout.write(`${i} ${buf.slice(0, nl)}\n`);
      buf = buf.slice(nl + 1);
    }
  });
  s.on('error', (err) => process.stdout.write(`${i} error ${err.message}\n`));
  s.on('close', () => process.stdout.write(`${i} closed\n`));
  sockets.push(s);
}
const stop = () => {
  for (const s of sockets) s.destroy();
  setTimeout(() => process.exit(0), 100);
};
setTimeout(stop, Number(maxSeconds) * 1000).unref();
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
