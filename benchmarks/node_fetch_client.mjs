// The request-cost peer in Node: the built-in `fetch` (undici), one process,
// `--conc` requests in flight over undici's keep-alive pool (at most `--conc`
// connections), the same request as bench_request sends. The reply is parsed
// as JSON, as a client would.
//
//   node node_fetch_client.mjs --url http(s)://127.0.0.1:PORT [--requests N]
//        [--warmup N] [--conc N] [--max-seconds S] [--server-pid PID]
//
// TLS trusts the CA given in NODE_EXTRA_CA_CERTS (set by the caller: Node
// reads it at start-up). Prints bench_request's RESULT line: CPU from
// process.cpuUsage() (getrusage) over the timed window, the server's CPU from
// /proc/<pid>/stat over the same window.
import { readFileSync } from 'node:fs';

const args = { requests: 5000, warmup: 200, conc: 10, 'max-seconds': 10, 'server-pid': 0, url: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  args[k] = k === 'url' || k === 'client' || k === 'ca' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
const url = args.url.replace(/\/$/, '') + '/api/chatbots/run';
const tls = url.startsWith('https://');
const body = '{"input":"Where is my order? It was due on Tuesday.","chatbot_id":"bench"}';
const headers = { 'Content-Type': 'application/json', 'Api-Key': 'bench-key', 'User-Agent': 'node-fetch' };

function processCpu(pid) {
  if (!(pid > 0)) return -1;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ: 100 on Linux
  } catch {
    return -1;
  }
}

function budget(n, seconds) {
  return {
    remaining: n, deadline: performance.now() + seconds * 1000, done: 0, errors: 0,
    take() {
      if (this.remaining <= 0) return false;
      if (this.remaining % 64 === 0 && performance.now() >= this.deadline) { this.remaining = 0; return false; }
      this.remaining--;
      return true;
    },
    fail(what) {
      if (++this.errors <= 3) console.error(`node_fetch_client: ${what}`);
      this.remaining = 0;
    },
  };
}

async function worker(b) {
  while (b.take()) {
    try {
      const res = await fetch(url, { method: 'POST', headers, body });
      const reply = await res.json();
      if (res.status !== 200 || !reply.output) { b.fail(`status ${res.status}`); return; }
    } catch (e) {
      b.fail(String(e.cause ?? e));
      return;
    }
    b.done++;
  }
}

const phase = (b) => Promise.all(Array.from({ length: args.conc }, () => worker(b)));

const warm = budget(args.warmup, args['max-seconds']);
await phase(warm);
if (warm.errors) process.exit(1);
const run = budget(args.requests, args['max-seconds']);
const s0 = processCpu(args['server-pid']);
const c0 = process.cpuUsage();
const t0 = performance.now();
await phase(run);
const t1 = performance.now();
const c = process.cpuUsage(c0);
const s1 = processCpu(args['server-pid']);
const server = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
console.log(`RESULT client=node transport=${tls ? 'tls' : 'plain'} requests=${run.done} errors=${run.errors} ` +
  `seconds=${((t1 - t0) / 1000).toFixed(6)} user_s=${(c.user / 1e6).toFixed(6)} sys_s=${(c.system / 1e6).toFixed(6)} ` +
  `server_cpu_s=${server.toFixed(4)} connections=${args.conc}`);
process.exit(run.errors ? 1 : 0);
