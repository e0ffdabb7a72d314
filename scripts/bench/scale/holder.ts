// Connections for the scale benchmark's pods to hold: run inside the cluster's network namespace,
// it listens on 127.0.0.1:PORT and opens N connections to itself, and keeps them open until it is
// stopped. The one `rainbow reporter` of the benchmark counts ESTABLISHED sockets on PORT there,
// so every pod it answers for reads N: no color ever reads 0, nothing is drained or deleted, and
// the controller's drain rounds repeat the same work.
//   node holder.js PORT N
import net from 'node:net';

const port = Number(process.argv[2]);
const n = Number(process.argv[3]);
const held: net.Socket[] = [];
const server = net.createServer((s) => held.push(s));
server.listen(port, '127.0.0.1', () => {
  let open = 0;
  for (let i = 0; i < n; i++) {
    const c = net.connect(port, '127.0.0.1', () => {
      open++;
      if (open === n) console.log(JSON.stringify({ event: 'ready', port, connections: n }));
    });
    c.on('error', (err) => console.log(JSON.stringify({ event: 'error', err: err.message })));
    held.push(c);
  }
});
const stop = () => {
  for (const s of held) s.destroy();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
