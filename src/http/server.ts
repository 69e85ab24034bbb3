import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import type { InFlight } from './in-flight.js';
import { randomBytes } from 'node:crypto';
import { authenticate } from '../auth/authenticate.js';
import { authorize, needsObjectTags, type Access } from '../auth/authorize.js';
import { checkExpectedOwner } from '../auth/expected-owner.js';
import { requestKeys, type RequestKeys } from '../auth/request-keys.js';
import type { SecretLookup } from '../auth/types.js';
import type { Handler, ServiceSettings } from '../api/context.js';
import { refuseEncryption } from '../api/encryption.js';
import { S3Error } from '../errors.js';
import { actionOf, type OperationName } from '../router/operations.js';
import { bucketFromHost, parseTarget, route } from '../router/route.js';
import { answerPreflight, applyCorsHeaders } from './cors.js';
import type { Store } from '../store/types.js';
import { renderXml } from '../xml.js';
import { answerClientError, trackExchange } from './client-error.js';
import { s3ErrorFromSystem } from './system-errors.js';

export interface S3ServerOptions {
  readonly store: Store;
  readonly settings: ServiceSettings;
  readonly handlers: Readonly<Record<OperationName, Handler>>;
  readonly lookup: SecretLookup;
  /** Domains under which `<bucket>.<domain>` addresses a bucket (virtual-hosted style). */
  readonly domains: readonly string[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly inFlight: InFlight;
}

/** Connection limits: how long a client may take, so a slow one cannot hold a worker. */
export interface ConnectionLimits {
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

/** What one request did, for the access log and the metrics. */
interface Observed {
  operation: string;
  bucket: string | undefined;
  principal: string | undefined;
}

const SERVER_NAME = 'Cairn';

/** Request ids: a random per-process prefix and a counter; unique without a random draw per request. */
const REQUEST_ID_PREFIX = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x100000000;
  return REQUEST_ID_PREFIX + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

/** SigV4 presigned-URL parameters that are authentication, not hoisted headers. */
const PRESIGN_AUTH_PARAMS = new Set([
  'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature',
  'x-amz-security-token', 'x-amz-content-sha256',
]);

/**
 * A presigned URL carries the x-amz-* headers its signer hoisted into the query
 * (SDK v3 does so for metadata, storage class, ACL, copy source…); the signature
 * covers them and S3 applies them as the request's headers. Upload checksum
 * parameters are left out: S3 ignores them on presigned URLs (SDK v3 signs the
 * CRC32 of an empty body into every presigned PutObject URL). A header actually sent wins;
 * verification reads rawHeaders, so this cannot change what was signed.
 */
function applyHoistedHeaders(req: IncomingMessage, query: URLSearchParams): void {
  if (!query.has('X-Amz-Signature')) return;
  for (const [name, value] of query) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-amz-') || PRESIGN_AUTH_PARAMS.has(lower)) continue;
    if ((lower.startsWith('x-amz-checksum-') && lower !== 'x-amz-checksum-mode') || lower === 'x-amz-sdk-checksum-algorithm') continue;
    if (req.headers[lower] === undefined) req.headers[lower] = value;
  }
}

/**
 * The HTTP edge: request ids, common headers, dispatch, S3 error documents, the
 * access log and request metrics. With `tls`, an HTTPS server (its certificate
 * can be replaced later with setSecureContext).
 */
export function createS3Server(options: S3ServerOptions, limits: ConnectionLimits, tls?: { cert: Buffer; key: Buffer }): Server | TlsServer {
  const serverOptions = {
    keepAlive: true,
    // Uploads may take as long as they keep moving; idleTimeoutMs catches the stalled ones.
    requestTimeout: 0,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Check for slow-header clients often enough that headersTimeout means what it says.
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    maxHeaderSize: 16 * 1024,
    highWaterMark: 256 * 1024,
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => options.inFlight.track(handle(options, req, res));
  const server = tls ? createTlsServer({ ...serverOptions, ...tls }, onRequest) : createServer(serverOptions, onRequest);
  server.timeout = limits.idleTimeoutMs;
  // Reply 100 Continue only once a handler takes the body (see RequestContext.body).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket, nextRequestId()));
  // An expectation other than 100-continue is ignored rather than answered with Node's bare 417.
  server.on('checkExpectation', onRequest);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => options.inFlight.track(handle(options, req, res, true)));
  return server;
}

/** One access-log line and the request metrics, once the response is done (or the client gone). */
function observe(options: S3ServerOptions, req: IncomingMessage, res: ServerResponse, requestId: string, started: bigint, seen: Observed): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const status = res.writableFinished ? res.statusCode : 499;
  const bytesIn = Number(req.headers['content-length'] ?? 0);
  const bytesOut = Number(res.getHeader('content-length') ?? 0);
  options.metrics.requests.inc({ operation: seen.operation, status: String(status) });
  options.metrics.duration.observe({ operation: seen.operation }, seconds);
  options.metrics.bytesIn.inc(bytesIn);
  if (res.writableFinished) options.metrics.bytesOut.inc(bytesOut);
  if (!options.logger.isLevelEnabled('info')) return;
  options.logger.info({
    requestId, method: req.method, path: (req.url ?? '/').split('?')[0], operation: seen.operation, bucket: seen.bucket,
    principal: seen.principal, status, ms: Math.round(seconds * 1e4) / 10, bytesIn, bytesOut, remote: req.socket.remoteAddress,
  }, 'request');
}

async function handle(options: S3ServerOptions, req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
  const requestId = nextRequestId();
  const started = process.hrtime.bigint();
  trackExchange(req, res);
  const seen: Observed = { operation: 'Unknown', bucket: undefined, principal: undefined };
  res.once('close', () => observe(options, req, res, requestId, started, seen));
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', Buffer.from(requestId).toString('base64'));
  res.setHeader('Server', SERVER_NAME);
  let resource = '/';
  try {
    const target = parseTarget(req.url ?? '/', req.headers.host, options.domains);
    resource = target.path;
    seen.bucket = target.bucket;
    options.store.metadata.refreshCaches();
    if (req.method === 'OPTIONS') {
      seen.operation = 'PreflightRequest';
      const bucket = target.bucket === undefined ? undefined : await options.store.metadata.getBucket(target.bucket);
      answerPreflight(req, res, bucket, target.key !== undefined ? 'OBJECT' : 'BUCKET');
      return;
    }
    // Only requests from browsers carry Origin; the bucket lookup is a cache hit.
    const origin = req.headers.origin;
    if (origin !== undefined && target.bucket !== undefined) {
      applyCorsHeaders(res, await options.store.metadata.getBucket(target.bucket), origin, req.method ?? 'GET');
    }
    applyHoistedHeaders(req, target.query);
    const { operation, spec } = route(req.method ?? 'GET', target, req.headers);
    seen.operation = operation;
    // SigV2 signs a virtual-hosted request's bucket in front of the path.
    const auth = await authenticate(req, options.lookup, { hostBucket: bucketFromHost(req.headers.host, options.domains) });
    const bucket = spec.target === 'service' || operation === 'CreateBucket'
      ? undefined
      : await options.store.metadata.getBucket(target.bucket!);
    if (spec.target !== 'service' && operation !== 'CreateBucket' && !bucket) {
      throw new S3Error('NoSuchBucket', undefined, { BucketName: target.bucket! });
    }
    if (auth.principal.kind === 'account') seen.principal = auth.principal.accountId;
    checkExpectedOwner(req.headers, bucket);
    const versionId = target.query.get('versionId');
    // The condition keys are built on first use: only a bucket with a policy asks for them.
    let keys: RequestKeys | undefined;
    const access: Access = {
      principal: auth.principal, action: actionOf(spec, versionId),
      get keys(): RequestKeys { return keys ??= requestKeys(req, target.query, auth.principal); },
    };
    // Only a policy conditioned on existing object tags costs a look at the object before deciding.
    const objectTags = bucket && target.key !== undefined && needsObjectTags(bucket)
      ? (await options.store.metadata.headObject(bucket.name, target.key, versionId ?? undefined))?.tags
      : undefined;
    authorize(spec.permission, access, bucket, spec.target === 'object' ? target.key : undefined, objectTags);
    refuseEncryption(operation, spec.target === 'object', req.headers);
    await options.handlers[operation]({
      req, res, requestId, operation, target, auth, principal: auth.principal, access,
      store: options.store, settings: options.settings, lookup: options.lookup, bucket,
      body: () => {
        if (expectsContinue && !res.headersSent) {
          res.writeContinue();
          expectsContinue = false;
        }
        return auth.body;
      },
    });
  } catch (err) {
    sendError(options, req, res, err, requestId, resource);
  }
}

function sendError(options: S3ServerOptions, req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, resource: string): void {
  const s3 = err instanceof S3Error ? err : s3ErrorFromSystem(err);
  if (!(err instanceof S3Error)) {
    // A request whose body was read whole is destroyed too (autoDestroy): only an incomplete one was cut off.
    const aborted = (req.destroyed && !req.complete) || res.destroyed || (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET';
    if (!aborted) options.logger.error({ requestId, err }, 'internal error');
  }
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const error = s3 ?? new S3Error('InternalError');
  const headers: Record<string, string | number> = { ...error.headers, 'Content-Type': 'application/xml' };
  // A body we did not read would otherwise be drained before the connection could be reused.
  if (!req.complete) headers.Connection = 'close';
  const body = Buffer.from(renderXml('Error', {
    Code: error.code,
    Message: error.message,
    ...error.details,
    Resource: resource,
    RequestId: requestId,
    HostId: Buffer.from(requestId).toString('base64'),
  }, null), 'utf8');
  // HEAD errors carry no body but still frame the message: without a Content-Length
  // (the size GET's body would have, RFC 9110 §9.3.2) Node's client, and so the SDKs,
  // cannot reuse the connection after a HEAD 404.
  headers['Content-Length'] = body.length;
  res.writeHead(error.status, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(body);
}
