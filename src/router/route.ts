import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import { KNOWN_SUBRESOURCES, OPERATIONS, type OperationName, type OperationSpec, type Target } from './operations.js';

/** What a request addresses, once path-style or virtual-hosted-style addressing is undone. */
export interface RequestTarget {
  readonly bucket?: string;
  readonly key?: string;
  readonly query: URLSearchParams;
  /** The path as sent, for error documents' Resource element. */
  readonly path: string;
}

export interface Route {
  readonly operation: OperationName;
  readonly spec: OperationSpec;
  readonly target: RequestTarget;
}

/**
 * Splits the request target into bucket and key. Virtual-hosted style applies
 * when the Host header is `<bucket>.<one of domains>`.
 */
export function parseTarget(url: string, host: string | undefined, domains: readonly string[]): RequestTarget {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new S3Error('InvalidURI');
  }
  if (!path.startsWith('/')) throw new S3Error('InvalidRequest', 'The request target must start with /');
  const hostBucket = bucketFromHost(host, domains);
  if (hostBucket !== undefined) {
    const key = path.slice(1);
    return { bucket: hostBucket, ...(key ? { key } : {}), query, path };
  }
  const slash = path.indexOf('/', 1);
  if (path === '/') return { query, path };
  if (slash < 0) return { bucket: path.slice(1), query, path };
  const key = path.slice(slash + 1);
  return { bucket: path.slice(1, slash), ...(key ? { key } : {}), query, path };
}

/**
 * Decodes a query string the way SigV4 canonicalises it: `%XX` escapes only, a
 * `+` stays a plus (URLSearchParams would make it a space, so that what is
 * routed could differ from what was signed).
 */
function parseQuery(raw: string): URLSearchParams {
  const query = new URLSearchParams();
  if (raw === '') return query;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      query.append(decodeURIComponent(name), decodeURIComponent(value));
    } catch {
      throw new S3Error('InvalidURI');
    }
  }
  return query;
}

/**
 * The bucket named by a Host header `<bucket>.<domain>[:port]`, for one of the
 * configured domains; undefined for path-style requests. Host names are
 * case-insensitive, so both sides are compared lower-cased.
 */
export function bucketFromHost(host: string | undefined, domains: readonly string[]): string | undefined {
  if (!host) return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  for (const domain of domains) {
    const suffix = `.${domain.toLowerCase()}`;
    if (name.length > suffix.length && name.endsWith(suffix)) return name.slice(0, -suffix.length);
  }
  return undefined;
}

/** Finds the operation a request asks for, or the S3 error for one that no operation serves. */
export function route(method: string, target: RequestTarget, headers: IncomingHttpHeaders): Route {
  const kind: Target = target.key !== undefined ? 'object' : target.bucket !== undefined ? 'bucket' : 'service';
  let fallback: OperationSpec | undefined;
  for (const spec of OPERATIONS as readonly OperationSpec[]) {
    if (spec.target !== kind || spec.method !== method) continue;
    if (spec.header !== undefined && headers[spec.header] === undefined) continue;
    if (spec.query === undefined) {
      fallback ??= spec;
      continue;
    }
    const [name, value] = typeof spec.query === 'string' ? [spec.query, undefined] : spec.query;
    if (target.query.has(name) && (value === undefined || target.query.get(name) === value)) {
      return { operation: spec.name as OperationName, spec, target };
    }
  }
  const named = KNOWN_SUBRESOURCES.find((s) => target.query.has(s));
  if (named !== undefined) {
    throw new S3Error('NotImplemented', `The ${named} sub-resource is not implemented for ${method} by this server.`);
  }
  if (fallback) return { operation: fallback.name as OperationName, spec: fallback, target };
  throw new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: kind.toUpperCase() });
}
