// Acceptance test: the official `openai` npm client against sglang-go's
// OpenAI-compatible server. npm_test.go starts the servers and runs
// `node --test` here with:
//
//   SGLANG_OPENAI_BASE_URL       base URL (…/v1) of a server without an API key
//   SGLANG_OPENAI_AUTH_BASE_URL  base URL (…/v1) of a server that requires a key
//   SGLANG_OPENAI_API_KEY        the key the second server requires
//   SGLANG_OPENAI_MODEL          the served model name
//
// The model is tiny, so the tests check shapes and constraints, not content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through npm_test.go`);
  return v;
}

const baseURL = env('SGLANG_OPENAI_BASE_URL');
const authBaseURL = env('SGLANG_OPENAI_AUTH_BASE_URL');
const apiKey = env('SGLANG_OPENAI_API_KEY');
const model = env('SGLANG_OPENAI_MODEL');

const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user', content: 'Tell me a story about a cat.' }];
const finishReasons = ['stop', 'length'];

function checkUsage(usage, { choices = 1 } = {}) {
  assert.ok(usage, 'usage is missing');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(Number.isInteger(usage.completion_tokens) && usage.completion_tokens >= choices,
    `completion_tokens ${usage.completion_tokens} for ${choices} choice(s)`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.ok(usage.prompt_tokens_details, 'usage.prompt_tokens_details is missing');
  const cached = usage.prompt_tokens_details.cached_tokens;
  assert.ok(Number.isInteger(cached) && cached >= 0, `cached_tokens ${cached}`);
}

function checkTokenLogprob(lp, top) {
  assert.equal(typeof lp.token, 'string');
  assert.ok(Number.isFinite(lp.logprob) && lp.logprob <= 0, `logprob ${lp.logprob}`);
  assert.ok(Array.isArray(lp.bytes), 'bytes is not a list');
  assert.equal(lp.top_logprobs.length, top, `top_logprobs has ${lp.top_logprobs.length} entries`);
  for (let i = 0; i < lp.top_logprobs.length; i++) {
    const t = lp.top_logprobs[i];
    assert.equal(typeof t.token, 'string');
    assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0);
    if (i > 0) assert.ok(lp.top_logprobs[i - 1].logprob >= t.logprob, 'top_logprobs are not sorted');
  }
  // The sampled token is never more likely than the most likely one.
  assert.ok(lp.logprob <= lp.top_logprobs[0].logprob + 1e-4, 'sampled logprob above the top one');
}

test('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.owned_by, 'string');
    assert.ok(Number.isInteger(m.created));
    ids.push(m.id);
  }
  assert.deepEqual(ids, [model]);
  const one = await client.models.retrieve(model);
  assert.equal(one.id, model);
});

test('chat completion', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  assert.ok(r.id.length > 0);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, 'assistant');
  assert.ok(typeof c.message.content === 'string' && c.message.content.length > 0, 'empty content');
  assert.ok(finishReasons.includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage);
  assert.ok(r.usage.completion_tokens <= 8);
  if (c.finish_reason === 'length') assert.equal(r.usage.completion_tokens, 8);
});

test('prefix cache shows in cached_tokens', async () => {
  const long = [{ role: 'user', content: 'Once upon a time there was a little dog named Max who liked to run in the park.' }];
  await client.chat.completions.create({ model, messages: long, max_tokens: 1 });
  const r = await client.chat.completions.create({ model, messages: long, max_tokens: 1 });
  checkUsage(r.usage);
  assert.ok(r.usage.prompt_tokens_details.cached_tokens > 0, 'a repeated prompt reused no cached tokens');
  assert.ok(r.usage.prompt_tokens_details.cached_tokens < r.usage.prompt_tokens);
});

test('streamed chat with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let role;
  let finish;
  let usage;
  let chunks = 0;
  let afterUsage = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (usage) afterUsage++;
    if (chunk.usage) {
      usage = chunk.usage;
      assert.equal(chunk.choices.length, 0, 'the usage chunk has choices');
      continue;
    }
    assert.equal(chunk.choices.length, 1);
    const c = chunk.choices[0];
    assert.equal(c.index, 0);
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) {
      assert.equal(finish, undefined, 'two finish reasons');
      finish = c.finish_reason;
    }
  }
  assert.ok(chunks >= 3, `only ${chunks} chunks`);
  assert.equal(role, 'assistant');
  assert.ok(text.length > 0, 'no content streamed');
  assert.ok(finishReasons.includes(finish), `finish_reason ${finish}`);
  assert.equal(afterUsage, 0, 'chunks after the usage chunk');
  checkUsage(usage);
  assert.ok(usage.completion_tokens <= 12);

  // Greedy decoding: the stream's text equals the unstreamed answer's.
  const full = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
  assert.equal(text, full.choices[0].message.content);
  assert.equal(usage.completion_tokens, full.usage.completion_tokens);
});

test('streamed chat without include_usage has no usage chunk', async () => {
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 4, stream: true });
  for await (const chunk of stream) {
    assert.ok(!chunk.usage, 'usage sent without stream_options.include_usage');
  }
});

test('completions', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.ok(typeof c.text === 'string' && c.text.length > 0, 'empty text');
  assert.ok(finishReasons.includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage);
  assert.ok(r.usage.completion_tokens <= 10);
});

test('streamed completions', async () => {
  const stream = await client.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish;
  let usage;
  for await (const chunk of stream) {
    if (chunk.usage) {
      usage = chunk.usage;
      continue;
    }
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  const full = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
  assert.equal(text, full.choices[0].text);
  assert.equal(finish, full.choices[0].finish_reason);
  checkUsage(usage);
});

test('n: 2 on chat and completions', async () => {
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 6, n: 2, temperature: 1, seed: 7 });
  assert.deepEqual(chat.choices.map((c) => c.index), [0, 1]);
  for (const c of chat.choices) {
    assert.ok(c.message.content.length > 0, 'empty content');
    assert.ok(finishReasons.includes(c.finish_reason));
  }
  checkUsage(chat.usage, { choices: 2 });
  assert.ok(chat.usage.completion_tokens <= 12);

  const cmpl = await client.completions.create({ model, prompt: 'The dog', max_tokens: 6, n: 2, temperature: 1 });
  assert.deepEqual(cmpl.choices.map((c) => c.index), [0, 1]);
  for (const c of cmpl.choices) assert.ok(c.text.length > 0, 'empty text');
  checkUsage(cmpl.usage, { choices: 2 });
  // The prompt is counted once, not once per choice.
  const single = await client.completions.create({ model, prompt: 'The dog', max_tokens: 1 });
  assert.equal(cmpl.usage.prompt_tokens, single.usage.prompt_tokens);
});

test('chat logprobs with top_logprobs: 3', async () => {
  const r = await client.chat.completions.create({
    model, messages, max_tokens: 6, logprobs: true, top_logprobs: 3, temperature: 0,
  });
  const c = r.choices[0];
  assert.ok(c.logprobs && Array.isArray(c.logprobs.content), 'no logprobs.content');
  assert.equal(c.logprobs.content.length, r.usage.completion_tokens, 'one logprob per completion token');
  for (const lp of c.logprobs.content) {
    checkTokenLogprob(lp, 3);
    // Greedy: the sampled token is the most likely one.
    assert.ok(Math.abs(lp.logprob - lp.top_logprobs[0].logprob) < 1e-4, 'greedy token is not the top one');
  }
  assert.equal(c.logprobs.content.map((lp) => lp.token).join(''), c.message.content);
});

test('streamed chat logprobs', async () => {
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 5, logprobs: true, top_logprobs: 3, stream: true,
  });
  let n = 0;
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      for (const lp of c.logprobs?.content ?? []) {
        checkTokenLogprob(lp, 3);
        n++;
      }
    }
  }
  assert.ok(n >= 1 && n <= 5, `${n} streamed logprobs for at most 5 tokens`);
});

test('completions logprobs: 2', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 6, logprobs: 2, temperature: 0 });
  const c = r.choices[0];
  const lp = c.logprobs;
  assert.ok(lp, 'no logprobs');
  const n = r.usage.completion_tokens;
  assert.equal(lp.tokens.length, n);
  assert.equal(lp.token_logprobs.length, n);
  assert.equal(lp.top_logprobs.length, n);
  assert.equal(lp.text_offset.length, n);
  assert.equal(lp.tokens.join(''), c.text);
  for (let i = 0; i < n; i++) {
    assert.ok(lp.token_logprobs[i] <= 0, `token_logprobs[${i}] ${lp.token_logprobs[i]}`);
    const alts = Object.values(lp.top_logprobs[i]);
    // Two alternatives, unless two token ids render as the same string.
    assert.ok(alts.length >= 1 && alts.length <= 2, `${alts.length} alternatives`);
    for (const v of alts) assert.ok(v <= 0);
    assert.ok(lp.token_logprobs[i] <= Math.max(...alts) + 1e-4);
    if (i > 0) assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1], 'text_offset goes back');
  }
});

test('unknown model is OpenAI.NotFoundError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 1 }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.match(err.message, /no-such-model/);
      return true;
    },
  );
  await assert.rejects(
    client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 }),
    OpenAI.NotFoundError,
  );
  await assert.rejects(client.models.retrieve('no-such-model'), OpenAI.NotFoundError);
});

test('bad request is OpenAI.BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model, messages, max_tokens: -1 }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 400);
      return true;
    },
  );
});

test('API key: wrong key is 401, right key works', async () => {
  const wrong = new OpenAI({ baseURL: authBaseURL, apiKey: 'sk-wrong', maxRetries: 0, timeout: 30_000 });
  await assert.rejects(
    wrong.chat.completions.create({ model, messages, max_tokens: 1 }),
    (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 401);
      return true;
    },
  );
  await assert.rejects(wrong.models.list(), OpenAI.AuthenticationError);

  const right = new OpenAI({ baseURL: authBaseURL, apiKey, maxRetries: 0, timeout: 30_000 });
  const r = await right.chat.completions.create({ model, messages, max_tokens: 2 });
  assert.equal(r.choices.length, 1);
  checkUsage(r.usage);
});
