import type { ServerResponse } from 'node:http';
import { renderXml, type XmlObject } from '../xml.js';

/** Sends an S3 XML document. */
export function sendXml(res: ServerResponse, status: number, root: string, content: XmlObject, headers: Record<string, string> = {}): void {
  const body = Buffer.from(renderXml(root, content), 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

/** Sends a response without a body. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}

/** S3's ETag form: the quoted hex digest. */
export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

/**
 * Dates in XML documents: ISO 8601 with milliseconds, at S3's one-second
 * resolution (always .000Z), so that a listing tells the same time as the
 * Last-Modified header of HEAD and GET.
 */
export function isoDate(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();
}

/** Dates in headers: RFC 1123. */
export function httpDate(d: Date): string {
  return d.toUTCString();
}
