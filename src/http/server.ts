import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { authenticate } from '../auth/authenticate.js';
import { authorize } from '../auth/authorize.js';
import type { SecretLookup } from '../auth/types.js';
import type { Handler, ServiceSettings } from '../api/context.js';
import { S3Error } from '../errors.js';
import type { OperationName } from '../router/operations.js';
import { bucketFromHost, parseTarget, route } from '../router/route.js';
import type { Store } from '../store/types.js';
import { renderXml } from '../xml.js';

export interface S3ServerOptions {
  readonly store: Store;
  readonly settings: ServiceSettings;
  readonly handlers: Readonly<Record<OperationName, Handler>>;
  readonly lookup: SecretLookup;
  /** Domains under which `<bucket>.<domain>` addresses a bucket (virtual-hosted style). */
  readonly domains: readonly string[];
  readonly log: (line: Record<string, unknown>) => void;
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

/** The HTTP edge: request ids, common headers, dispatch, and S3 error documents. */
export function createS3Server(options: S3ServerOptions): Server {
  const server = createServer({
    keepAlive: true,
    requestTimeout: 0,
    headersTimeout: 60_000,
    maxHeaderSize: 16 * 1024,
    highWaterMark: 256 * 1024,
  }, (req, res) => void handle(options, req, res));
  // Reply 100 Continue only once the request has passed routing and authentication.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => void handle(options, req, res, true));
  return server;
}

async function handle(options: S3ServerOptions, req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
  const requestId = nextRequestId();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', Buffer.from(requestId).toString('base64'));
  res.setHeader('Server', SERVER_NAME);
  let resource = '/';
  try {
    const target = parseTarget(req.url ?? '/', req.headers.host, options.domains);
    resource = target.path;
    applyHoistedHeaders(req, target.query);
    const { operation, spec } = route(req.method ?? 'GET', target, req.headers);
    // SigV2 signs a virtual-hosted request's bucket in front of the path.
    const auth = await authenticate(req, options.lookup, { hostBucket: bucketFromHost(req.headers.host, options.domains) });
    const bucket = spec.target === 'service' || operation === 'CreateBucket'
      ? undefined
      : await options.store.metadata.getBucket(target.bucket!);
    if (spec.target !== 'service' && operation !== 'CreateBucket' && !bucket) {
      throw new S3Error('NoSuchBucket', undefined, { BucketName: target.bucket! });
    }
    authorize(spec.permission, auth.principal, bucket);
    await options.handlers[operation]({
      req, res, requestId, operation, target, auth, principal: auth.principal,
      store: options.store, settings: options.settings, bucket,
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
  const s3 = err instanceof S3Error ? err : undefined;
  if (!s3) {
    const aborted = req.destroyed || (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET';
    if (!aborted) options.log({ level: 'error', requestId, msg: 'internal error', err: String((err as Error)?.stack ?? err) });
  }
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const error = s3 ?? new S3Error('InternalError');
  const headers: Record<string, string | number> = { ...error.headers, 'Content-Type': 'application/xml' };
  // A body we did not read would otherwise be drained before the connection could be reused.
  if (!req.complete) headers.Connection = 'close';
  if (req.method === 'HEAD') {
    res.writeHead(error.status, headers);
    res.end();
    return;
  }
  const body = Buffer.from(renderXml('Error', {
    Code: error.code,
    Message: error.message,
    ...error.details,
    Resource: resource,
    RequestId: requestId,
    HostId: Buffer.from(requestId).toString('base64'),
  }, null), 'utf8');
  headers['Content-Length'] = body.length;
  res.writeHead(error.status, headers);
  res.end(body);
}
