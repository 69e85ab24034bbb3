/**
 * A web application on another origin uses Cairn from a real browser:
 * Debian's Chromium, driven by playwright-core (no browser download). Pages
 * come from two small local servers, http://127.0.0.1:<A> (allowed by the
 * bucket's CORS rule) and http://127.0.0.1:<B> (not). From the allowed
 * origin, fetch() reads an object through a presigned GET URL and sees the
 * exposed headers, uploads through a presigned PUT URL and through a form
 * POST, and an HTML form with a signed policy uploads a file; from the other
 * origin, or once the rule is gone, the browser blocks the same requests; a
 * form that breaks its policy gets S3's error page.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand, DeleteBucketCorsCommand, GetObjectCommand, PutBucketCorsCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT_KEY, s3Client, startServer, type RunningServer } from './harness.js';
import { bodyBytes, md5Hex, uniqueBucket } from './s3-helpers.js';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  // Without these Chromium reaches for the (closed) network in the background.
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let cairn: RunningServer;
let s3: S3Client;
let browser: Browser;
let allowedSite: Server;
let otherSite: Server;
let allowed: string;
let other: string;
const bucket = uniqueBucket('browser');

/** A site that serves an empty page at every path (a redirect target included). */
async function site(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>app</title><p>app</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function closeSite(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function allowOrigin(origin: string): Promise<void> {
  await s3.send(new PutBucketCorsCommand({
    Bucket: bucket, CORSConfiguration: {
      CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-meta-color'] }],
    },
  }));
}

/** A fresh browser context (its own preflight cache) with a page loaded from `origin`. */
async function pageAt(origin: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/app`);
  return page;
}

interface FetchOutcome {
  readonly ok: boolean;
  readonly status?: number;
  readonly text?: string;
  readonly headers?: Record<string, string | null>;
  readonly error?: string;
}

/** Runs fetch() in the page; a request the browser blocks rejects, which comes back as `error`. */
async function pageFetch(page: Page, url: string, init: { method?: string; body?: string } = {}, read: string[] = []): Promise<FetchOutcome> {
  return page.evaluate(async ({ url, init, read }) => {
    try {
      const r = await fetch(url, init);
      const headers: Record<string, string | null> = {};
      for (const name of read) headers[name] = r.headers.get(name);
      return { ok: true, status: r.status, text: await r.text(), headers };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, { url, init, read });
}

const presignedGet = (key: string): Promise<string> => getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
const presignedPut = (key: string): Promise<string> => getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });

async function objectText(key: string): Promise<string> {
  return (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString();
}

/** The fields of a V4-signed form whose policy says `conditions`. */
function signedFields(conditions: unknown[]): Record<string, string> {
  const now = new Date();
  const date = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const credential = `${ROOT_KEY.accessKeyId}/${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
  const policy = Buffer.from(JSON.stringify({
    expiration: new Date(now.getTime() + 600_000).toISOString(),
    conditions: [...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': date }],
  })).toString('base64');
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${ROOT_KEY.secretAccessKey}`, date.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
  return {
    'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': date, policy,
    'x-amz-signature': hmac(signingKey, policy).toString('hex'),
  };
}

/** Puts an HTML form posting to the bucket into the page: the fields in order, then the file input. */
async function addForm(page: Page, fields: [string, string][]): Promise<void> {
  await page.evaluate(({ action, fields }) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.enctype = 'multipart/form-data';
    form.action = action;
    for (const [name, value] of fields) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    const file = document.createElement('input');
    file.type = 'file';
    file.name = 'file';
    const submit = document.createElement('input');
    submit.type = 'submit';
    submit.id = 'upload';
    form.append(file, submit);
    document.body.appendChild(form);
  }, { action: `${cairn.endpoint}/${bucket}`, fields });
}

before(async () => {
  cairn = await startServer();
  s3 = s3Client(cairn);
  const a = await site();
  const b = await site();
  allowedSite = a.server;
  otherSite = b.server;
  allowed = a.origin;
  other = b.origin;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello, browser', Metadata: { color: 'teal' } }));
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await closeSite(allowedSite);
  await closeSite(otherSite);
  s3?.destroy();
  await cairn?.stop();
});

test('with a matching rule, fetch() reads through a presigned GET and sees only the exposed headers', async () => {
  await allowOrigin(allowed);
  const page = await pageAt(allowed);
  const got = await pageFetch(page, await presignedGet('hello.txt'), {}, ['etag', 'x-amz-meta-color', 'x-amz-request-id']);
  assert.ok(got.ok, got.error);
  assert.equal(got.status, 200);
  assert.equal(got.text, 'hello, browser');
  assert.deepEqual(got.headers, { etag: `"${md5Hex('hello, browser')}"`, 'x-amz-meta-color': 'teal', 'x-amz-request-id': null });
  await page.context().close();
});

test('with a matching rule, a presigned PUT (preflighted) uploads from the page', async () => {
  await allowOrigin(allowed);
  const page = await pageAt(allowed);
  const put = await pageFetch(page, await presignedPut('from-page.txt'), { method: 'PUT', body: 'written by chromium' }, ['etag']);
  assert.ok(put.ok, put.error);
  assert.equal(put.status, 200);
  assert.equal(put.headers?.etag, `"${md5Hex('written by chromium')}"`);
  assert.equal(await objectText('from-page.txt'), 'written by chromium');
  await page.context().close();
});

test('from another origin the browser blocks the same requests', async () => {
  await allowOrigin(allowed);
  const page = await pageAt(other);
  const got = await pageFetch(page, await presignedGet('hello.txt'));
  assert.equal(got.ok, false, 'a GET from an origin the rule does not name must be blocked');
  const put = await pageFetch(page, await presignedPut('hello.txt'), { method: 'PUT', body: 'overwritten' });
  assert.equal(put.ok, false, 'a PUT from an origin the rule does not name must be blocked');
  // The preflight failed, so the PUT itself was never sent.
  assert.equal(await objectText('hello.txt'), 'hello, browser');
  await page.context().close();
});

test('once the rule is removed, the allowed origin is blocked too', async () => {
  await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
  const page = await pageAt(allowed);
  assert.equal((await pageFetch(page, await presignedGet('hello.txt'))).ok, false);
  assert.equal((await pageFetch(page, await presignedPut('removed.txt'), { method: 'PUT', body: 'x' })).ok, false);
  await page.context().close();
});

test('an HTML form with a signed policy uploads a file and redirects back to the app', async () => {
  await allowOrigin(allowed);
  const page = await pageAt(allowed);
  const content = Buffer.from('a file chosen in the browser\n'.repeat(100));
  await addForm(page, [
    ['key', 'forms/${filename}'], ['success_action_redirect', `${allowed}/done`], ['Content-Type', 'text/plain'],
    ...Object.entries(signedFields([
      { bucket }, ['starts-with', '$key', 'forms/'], { success_action_redirect: `${allowed}/done` },
      ['starts-with', '$Content-Type', 'text/'], ['content-length-range', 1, 1024 * 1024],
    ])),
  ]);
  await page.setInputFiles('input[type=file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: content });
  await Promise.all([page.waitForURL(`${allowed}/done?**`), page.click('#upload')]);
  const done = new URL(page.url());
  assert.equal(done.searchParams.get('bucket'), bucket);
  assert.equal(done.searchParams.get('key'), 'forms/notes.txt');
  assert.equal(done.searchParams.get('etag'), `"${md5Hex(content)}"`);
  const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'forms/notes.txt' }));
  assert.equal(stored.ContentType, 'text/plain');
  assert.deepEqual(await bodyBytes(stored.Body), content);
  await page.context().close();
});

test('fetch() posts a signed form and reads the PostResponse; a form that breaks its policy gets S3\'s error page', async () => {
  await allowOrigin(allowed);
  const page = await pageAt(allowed);
  const fields = { key: 'fetched-form.txt', success_action_status: '201', ...signedFields([{ bucket }, { key: 'fetched-form.txt' }, { success_action_status: '201' }]) };
  const posted = await page.evaluate(async ({ action, fields }) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob(['posted by fetch']), 'ignored-name.txt');
    const r = await fetch(action, { method: 'POST', body: form });
    return { status: r.status, etag: r.headers.get('etag'), body: await r.text() };
  }, { action: `${cairn.endpoint}/${bucket}`, fields });
  assert.equal(posted.status, 201);
  assert.equal(posted.etag, `"${md5Hex('posted by fetch')}"`);
  assert.match(posted.body, /<Key>fetched-form\.txt<\/Key>/);
  assert.equal(await objectText('fetched-form.txt'), 'posted by fetch');

  // The policy allows keys under uploads/ only; the form asks for another key.
  await addForm(page, [['key', 'elsewhere/${filename}'], ...Object.entries(signedFields([{ bucket }, ['starts-with', '$key', 'uploads/']]))]);
  await page.setInputFiles('input[type=file]', { name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('not allowed') });
  const [response] = await Promise.all([page.waitForNavigation(), page.click('#upload')]);
  assert.equal(response?.status(), 403);
  const shown = await page.content();
  assert.match(shown, /AccessDenied/);
  assert.match(shown, /Invalid according to Policy: Policy Condition failed/);
  await page.context().close();
});
