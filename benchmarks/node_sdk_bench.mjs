// The official ChatBotKit Node SDK doing conversation completions against the
// emulator, JSON then stream, CONC at a time (one conversation per worker),
// COUNT each or until SECONDS pass. scripts/bench.sh runs it next to bench_http
// and prints the ratio. The SDK is installed into the build tree, never here:
//   CBK_NODE_MODULES=<build>/interop/node_modules node node_sdk_bench.mjs BASE_URL COUNT CONC SECONDS
// Output lines, for scripts/bench.sh:
//   NODE json|stream ops seconds errors p50_us p99_us tokens
import { createRequire } from 'node:module';
import path from 'node:path';

const modules = process.env.CBK_NODE_MODULES;
if (!modules) {
  console.error('node_sdk_bench: set CBK_NODE_MODULES to the node_modules holding @chatbotkit/sdk');
  process.exit(2);
}
const require = createRequire(path.join(modules, 'noop.js'));
const { ChatBotKit } = require('@chatbotkit/sdk');

const [baseUrl, countArg = '400', concArg = '8', secondsArg = '1.5'] = process.argv.slice(2);
const count = Number(countArg);
const conc = Number(concArg);
const seconds = Number(secondsArg);
const message = 'Where is my order? It was due on Tuesday.';
const client = new ChatBotKit({ secret: 'x', baseUrl });

// The admin API wants its token (from the script that started the emulator) and JSON.
async function reset() {
  await fetch(`${baseUrl}/_emulator/reset`, {
    method: 'POST',
    body: '{}',
    headers: {
      'Content-Type': 'application/json',
      'X-Emulator-Admin-Token': process.env.CHATWIRE_EMULATOR_ADMIN_TOKEN ?? '',
    },
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)))];
}

async function phase(kind) {
  await reset();
  const conversations = [];
  for (let i = 0; i < conc; i++) conversations.push((await client.conversation.create({})).id);
  const one = async (id) => {
    if (kind === 'json') {
      const r = await client.conversation.complete(id, { text: message });
      return r.text ? 1 : 0;
    }
    let tokens = 0;
    for await (const ev of client.conversation.complete(id, { text: message }).stream()) {
      if (ev.type === 'token') tokens++;
    }
    return tokens;
  };
  for (let k = 0; k < 3; k++) await Promise.all(conversations.map(one)); // warm-up: connections and JIT

  let remaining = count;
  const deadline = performance.now() + seconds * 1000;
  const latencies = [];
  let errors = 0;
  let tokens = 0;
  const worker = async (id) => {
    while (remaining > 0 && performance.now() < deadline) {
      remaining--;
      const t0 = performance.now();
      try {
        const n = await one(id);
        tokens += n;
        latencies.push((performance.now() - t0) * 1000);
      } catch (err) {
        if (++errors === 1) console.error(`node sdk ${kind}:`, err.message);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(conversations.map(worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(['NODE', kind, latencies.length, elapsed.toFixed(6), errors,
    percentile(latencies, 0.5).toFixed(0), percentile(latencies, 0.99).toFixed(0),
    kind === 'json' ? 0 : tokens].join(' '));
}

try {
  await phase('json');
  await phase('stream');
} catch (err) {
  console.error('node_sdk_bench failed:', err);
  process.exit(1);
}
