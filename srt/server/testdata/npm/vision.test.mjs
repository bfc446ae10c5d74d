// Acceptance test: the official `openai` npm client sends the requests of
// SGLang's "OpenAI APIs - Vision" page to sglang-go serving a Qwen2.5-VL
// test model. vision_test.go starts the server and runs this file with:
//
//   SGLANG_VISION_BASE_URL           base URL (…/v1) of the vision server
//   SGLANG_VISION_MODEL              the served model name
//   SGLANG_VISION_IMAGE_URL          an http URL of the tutorial's first image
//   SGLANG_VISION_IMAGE2_DATA_URL_FILE  a file holding the second image as a data: URL
//   SGLANG_VISION_PROMPT_TOKENS      prompt_tokens expected with the first image
//   SGLANG_VISION_TWO_PROMPT_TOKENS  prompt_tokens expected with both images
//
// Without them (as when npm_test.go runs every test file for the text
// model), the tests are skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const env = process.env;
const skip = env.SGLANG_VISION_BASE_URL ? false : 'SGLANG_VISION_BASE_URL is not set (run through vision_test.go)';
const model = env.SGLANG_VISION_MODEL;
const image2 = skip ? '' : readFileSync(env.SGLANG_VISION_IMAGE2_DATA_URL_FILE, 'utf8');
const client = skip ? null : new OpenAI({ baseURL: env.SGLANG_VISION_BASE_URL, apiKey: 'None', maxRetries: 0, timeout: 60_000 });

test('one image by URL', { skip }, async () => {
  const r = await client.chat.completions.create({
    model,
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: "What's in this image?" },
        { type: 'image_url', image_url: { url: env.SGLANG_VISION_IMAGE_URL } },
      ],
    }],
    max_tokens: 8,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.usage.prompt_tokens, Number(env.SGLANG_VISION_PROMPT_TOKENS));
});

const twoImages = () => [{
  role: 'user',
  content: [
    { type: 'image_url', image_url: { url: env.SGLANG_VISION_IMAGE_URL } },
    { type: 'image_url', image_url: { url: image2 } },
    {
      type: 'text',
      text: 'I have two very different images. They are not related at all. ' +
        'Please describe the first image in one sentence, and then describe the second image in another sentence.',
    },
  ],
}];

test('two interleaved images', { skip }, async () => {
  const r = await client.chat.completions.create({ model, messages: twoImages(), max_tokens: 8, temperature: 0 });
  assert.equal(r.usage.prompt_tokens, Number(env.SGLANG_VISION_TWO_PROMPT_TOKENS));
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
});

test('streamed answer about two images', { skip }, async () => {
  const stream = await client.chat.completions.create({
    model, messages: twoImages(), max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.choices.length > 0) text += chunk.choices[0].delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
    chunks++;
  }
  assert.ok(chunks > 1, `only ${chunks} chunk(s)`);
  assert.ok(usage, 'no usage chunk');
  assert.equal(usage.prompt_tokens, Number(env.SGLANG_VISION_TWO_PROMPT_TOKENS));
  assert.ok(usage.completion_tokens > 0);
});

test('a bad image is a 400 with a message', { skip }, async () => {
  await assert.rejects(
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,aGVsbG8=' } }] }],
      max_tokens: 2,
    }),
    (err) => err.status === 400 && /image/.test(err.message),
  );
});
