// Drives `chatwire emulate` with the official ChatBotKit Node SDK.
// Usage: node cbk_sdk_interop.cjs BASE_URL API_KEY   (NODE_PATH points at node_modules)
'use strict';
const assert = require('node:assert/strict');
const { ChatBotKit } = require('@chatbotkit/sdk');

const [baseUrl, secret] = process.argv.slice(2);

async function expectError(promise, code) {
  try {
    await promise;
  } catch (err) {
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return;
  }
  assert.fail(`expected an error ${code}`);
}

async function main() {
  const client = new ChatBotKit({ secret, baseUrl });

  // create
  const created = [];
  for (let i = 0; i < 5; i++) {
    const { id } = await client.conversation.create({ name: `conversation ${i}`, meta: { i } });
    assert.match(id, /^cnv_/);
    created.push(id);
  }

  // list through cursor pages, newest first
  const paged = [];
  let cursor;
  for (let page = 0; page < 10; page++) {
    const res = await client.conversation.list({ take: 2, cursor });
    if (!res.items.length || !res.cursor) break;
    assert.ok(res.items.length <= 2);
    paged.push(...res.items.map((i) => i.id));
    cursor = res.cursor;
  }
  assert.deepEqual(paged, [...created].reverse());

  // list as a JSONL stream: every item
  const streamed = [];
  for await (const ev of client.conversation.list().stream()) {
    assert.equal(ev.type, 'item');
    streamed.push(ev.data.id);
  }
  assert.deepEqual(streamed, [...created].reverse());

  // complete, JSON then stream
  const id = created[0];
  const reply = await client.conversation.complete(id, { text: 'Where is my "order"?' });
  assert.match(reply.id, /^msg_/);
  assert.ok(reply.text.includes('Where is my "order"?'));
  assert.equal(reply.end.reason, 'stop');
  assert.ok(reply.usage.token > 0);

  let tokens = '';
  let result;
  const types = [];
  for await (const ev of client.conversation.complete(id, { text: 'And now?' }).stream()) {
    types.push(ev.type);
    if (ev.type === 'token') tokens += ev.data.token;
    if (ev.type === 'result') result = ev.data;
  }
  assert.equal(types[0], 'completeBegin');
  assert.equal(types[types.length - 1], 'result');
  assert.ok(result && result.text.length > 0);
  assert.equal(tokens, result.text);

  // stateless complete
  const stateless = await client.conversation.complete(null, { model: 'gpt-4o', messages: [{ type: 'user', text: 'Hi' }] });
  assert.ok(stateless.text.length > 0);

  // message list
  const messages = await client.conversation.message.list(id, { order: 'asc' });
  assert.deepEqual(messages.items.map((m) => m.type), ['user', 'bot', 'user', 'bot']);
  assert.equal(messages.items[1].text, reply.text);

  // fetch, update, delete
  const fetched = await client.conversation.fetch(id);
  assert.equal(fetched.id, id);
  assert.equal(fetched.name, 'conversation 0');
  await client.conversation.update(id, { name: 'renamed', meta: { x: 'y' } });
  const updated = await client.conversation.fetch(id);
  assert.equal(updated.name, 'renamed');
  assert.deepEqual(updated.meta, { x: 'y' });
  const deleted = await client.conversation.delete(id);
  assert.equal(deleted.id, id);
  await expectError(client.conversation.fetch(id), 'NOT_FOUND');

  // bots
  const bots = await client.bot.list();
  assert.ok(Array.isArray(bots.items));

  // a sub-account sees only its own conversations
  const child = new ChatBotKit({ secret, baseUrl, runAsUserId: 'child_1' });
  assert.equal((await child.conversation.list()).items.length, 0);

  // an auth error
  const wrong = new ChatBotKit({ secret: 'not-the-key', baseUrl });
  await expectError(wrong.conversation.list(), 'NOT_AUTHENTICATED');

  console.log('chatbotkit sdk interop: ok');
}

main().catch((err) => {
  console.error('chatbotkit sdk interop failed:', err);
  process.exit(1);
});
