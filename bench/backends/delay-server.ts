/**
 * The fixed-delay backend: answers every GET with a small JSON body after `delayMs`. Debian's
 * nginx has no echo_sleep (that is libnginx-mod-http-echo, not part of the plain nginx install),
 * and limit_rate paces bytes rather than adding a fixed latency, so this is a tiny node:http
 * server pinned to the load core. A Node timer fires at delayMs or slightly later (typically
 * +0.1–1 ms), which is the honest floor for the fan-out latency target.
 *
 * Usage: node bench/backends/delay-server.ts <port> <delayMs>
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const delayMs = Number(process.argv[3] ?? 20);
const body = Buffer.from(JSON.stringify({ ok: true, value: 'slow-leaf', delayMs }));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = createServer((req, res) => {
  req.resume();
  setTimeout(() => {
    res.writeHead(200, headers);
    res.end(body);
  }, delayMs);
});
server.keepAliveTimeout = 300_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
