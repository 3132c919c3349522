import { join } from 'node:path';
import { loadSharp } from '@siamese/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SiameseServer, startServer } from './server.js';
import { FIXTURES, fixture, form, IMAGES, makeModel, tempDir } from './test-util.js';

const TOKEN = 'correct horse battery staple';
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
  body: JSON.stringify(body),
});
const auth = { authorization: `Bearer ${TOKEN}` };

async function error(
  r: Response,
): Promise<{ status: number; code: string; message: string; field?: string }> {
  const body = await r.text().then(JSON.parse);
  return { status: r.status, ...body.error };
}

describe('siamese serve: bad input, limits and auth', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: SiameseServer;
  let url: string;
  let circle: Buffer;

  beforeAll(async () => {
    tmp = await tempDir();
    const model = await makeModel(join(tmp.path, 'model'));
    server = await startServer({
      model,
      port: 0,
      workers: 1,
      threads: 1,
      token: TOKEN,
      bodyLimit: 64 * 1024,
      maxImageBytes: 20 * 1024,
      pixelLimit: 200 * 200,
      maxEnrolImages: 3,
    });
    url = server.url;
    circle = await fixture(IMAGES.circle);
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  it('refuses requests without the bearer token, or with a wrong one; probes stay open', async () => {
    let r = await fetch(`${url}/v1/model`);
    expect(await error(r)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    r = await fetch(`${url}/v1/model`, {
      headers: { authorization: 'Bearer correct horse battery stapler' },
    });
    expect(await error(r)).toMatchObject({ status: 401, message: 'the bearer token is wrong' });
    r = await fetch(`${url}/metrics`, { headers: { authorization: 'Basic abc' } });
    expect(r.status).toBe(401);
    expect((await fetch(`${url}/v1/model`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('names the missing field', async () => {
    expect(await error(await fetch(`${url}/v1/compare`, json({ a: circle.toString('base64') })))).toEqual({
      status: 400,
      code: 'invalid-request',
      message: "field 'b' is missing",
      field: 'b',
    });
    const r = await fetch(`${url}/v1/compare`, { method: 'POST', headers: auth, body: form({ b: circle }) });
    expect(await error(r)).toMatchObject({ status: 400, message: "field 'a' is missing", field: 'a' });
    expect(await error(await fetch(`${url}/v1/gallery`, json({ images: [] })))).toMatchObject({
      status: 400,
      field: 'id',
    });
  });

  it('refuses a path or URL in place of an image, and fields it does not know', async () => {
    // '/etc/passwd' is made of base64 letters: decoded, its bytes are no image; no file is read.
    const r = await fetch(`${url}/v1/embed`, json({ image: '/etc/passwd' }));
    expect(await error(r)).toMatchObject({ status: 400, field: 'image', code: 'invalid-image' });
    const u = await error(await fetch(`${url}/v1/embed`, json({ image: 'aGVsbG8=', path: '/etc/passwd' })));
    expect(u).toMatchObject({ status: 400, field: 'path' });
    const url2 = await error(await fetch(`${url}/v1/embed`, json({ image: 'https://example.com/a.png' })));
    expect(url2).toMatchObject({
      status: 400,
      field: 'image',
      message: "field 'image': not base64 (send the image's bytes, base64-encoded)",
    });
  });

  it('says which upload is not an image, corrupt, or too large, naming no server path', async () => {
    const text = await fixture('broken/bad/text.jpg');
    let e = await error(
      await fetch(`${url}/v1/compare`, { method: 'POST', headers: auth, body: form({ a: circle, b: text }) }),
    );
    expect(e).toMatchObject({ status: 400, code: 'invalid-image', field: 'b' });
    expect(e.message).toMatch(/^field 'b': not an image sharp can read \(\d+ bytes; /);
    const truncated = await fixture('broken/bad/truncated.png');
    e = await error(await fetch(`${url}/v1/embed`, json({ image: truncated.toString('base64') })));
    expect(e).toMatchObject({ status: 400, code: 'invalid-image', field: 'image' });
    expect(e.message).toMatch(/^field 'image': corrupt or truncated image/);
    e = await error(
      await fetch(`${url}/v1/embed`, {
        method: 'POST',
        headers: auth,
        body: form({ image: Buffer.alloc(0) }),
      }),
    );
    expect(e).toMatchObject({ status: 400, message: "field 'image': empty (0 bytes), not an image" });
    // Over the pixel limit (a 256 x 256 PNG against 200 x 200): refused from the header.
    const sharp = await loadSharp();
    const big = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    e = await error(await fetch(`${url}/v1/embed`, json({ image: big.toString('base64') })));
    expect(e).toMatchObject({ status: 413, code: 'too-large', field: 'image' });
    expect(e.message).toMatch(/^field 'image': 256x256 = 65536 pixels is over the pixel limit of 40000/);
    for (const m of [e.message]) expect(m).not.toContain(FIXTURES);
  });

  it('refuses an oversized body and an oversized upload with 413', async () => {
    const huge = Buffer.alloc(100 * 1024, 7);
    let e = await error(await fetch(`${url}/v1/embed`, json({ image: huge.toString('base64') })));
    expect(e).toMatchObject({
      status: 413,
      code: 'too-large',
      message: 'the request body is over the limit of 65536 bytes',
    });
    const r = await fetch(`${url}/v1/embed`, {
      method: 'POST',
      headers: auth,
      body: form({ image: Buffer.alloc(30 * 1024, 1) }),
    });
    e = await error(r);
    expect(e).toMatchObject({ status: 413, code: 'too-large' });
    e = await error(
      await fetch(`${url}/v1/gallery`, {
        method: 'POST',
        headers: auth,
        body: form({ image: [circle, circle, circle, circle] }, { id: 'x' }),
      }),
    );
    expect(e).toMatchObject({ status: 413, code: 'too-large' });
  });

  it('refuses other content types with 415 and malformed JSON with 400, as JSON errors', async () => {
    let r = await fetch(`${url}/v1/compare`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'a,b',
    });
    expect(await error(r)).toMatchObject({ status: 415, code: 'unsupported-media-type' });
    r = await fetch(`${url}/v1/compare`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: circle,
    });
    expect(await error(r)).toMatchObject({ status: 415 });
    r = await fetch(`${url}/v1/compare`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(await error(r)).toMatchObject({
      status: 400,
      code: 'invalid-request',
      message: 'the body is not valid JSON',
    });
    r = await fetch(`${url}/v1/search`, json({ image: circle.toString('base64'), k: 0 }));
    expect(await error(r)).toMatchObject({ status: 400, field: 'k', message: "field 'k' must be >= 1" });
    r = await fetch(`${url}/v1/nothing`, { headers: auth });
    expect(await error(r)).toMatchObject({
      status: 404,
      code: 'not-found',
      message: 'no route GET /v1/nothing',
    });
    r = await fetch(`${url}/v1/gallery/${encodeURIComponent('../etc')}`, { method: 'DELETE', headers: auth });
    expect(await error(r)).toMatchObject({ status: 400, code: 'invalid-request' });
  });

  it('never answers with a stack trace', async () => {
    const r = await fetch(`${url}/v1/compare`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data' },
      body: 'x',
    });
    const text = await r.text();
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(text).not.toMatch(/ at |node_modules|\.js:\d+/);
    expect(JSON.parse(text).error.code).toBeTypeOf('string');
  });
});

describe('siamese serve: the body limit holds for multipart too', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: SiameseServer;
  beforeAll(async () => {
    tmp = await tempDir();
    const model = await makeModel(join(tmp.path, 'model'));
    // Each file is within its own limit; three of them are not within the body's.
    server = await startServer({
      model,
      port: 0,
      workers: 1,
      threads: 1,
      bodyLimit: 16 * 1024,
      maxImageBytes: 10 * 1024,
      maxEnrolImages: 4,
    });
  });
  afterAll(async () => {
    await server?.close();
    await tmp?.remove();
  });

  it('counts every file part of a request against the body limit', async () => {
    const part = Buffer.alloc(8 * 1024, 3);
    const r = await fetch(`${server.url}/v1/embed`, {
      method: 'POST',
      body: form({ image: part, junk: [part, part] }),
    });
    expect(await error(r)).toMatchObject({
      status: 413,
      code: 'too-large',
      message: 'the request body is over the limit of 16384 bytes',
    });
  });
});
