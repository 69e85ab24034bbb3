import { EntityDecoder } from '@nodable/entities';
import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An XML element value: text, a nested element, or a list rendered as repeated elements. */
export type XmlValue = string | number | boolean | undefined | XmlObject | XmlValue[];
export interface XmlObject { [name: string]: XmlValue }

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for XML; control characters XML 1.0 cannot carry literally become
 * character references, and so does CR, which a parser would otherwise fold into LF.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f]/g,
    (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
}

function renderValue(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) renderValue(name, item, out);
    return;
  }
  if (typeof value === 'object') {
    // Members named '@…' are the element's attributes (e.g. '@xsi:type').
    const attributes = Object.entries(value).filter(([k, v]) => k.startsWith('@') && v !== undefined)
      .map(([k, v]) => ` ${k.slice(1)}="${escapeXml(String(v))}"`).join('');
    out.push(`<${name}${attributes}>`);
    for (const [child, v] of Object.entries(value)) if (!child.startsWith('@')) renderValue(child, v, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>`, escapeXml(String(value)), `</${name}>`);
}

/**
 * Renders an S3 response document; undefined members are left out, arrays
 * become repeated elements, `@name` members are attributes, and `#text` is the
 * root's own text. Our documents
 * are plain element trees, so this small writer (hot on listings) is all we need.
 */
export function renderXml(root: string, content: XmlObject, namespace: string | null = S3_NAMESPACE): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>\n', namespace ? `<${root} xmlns="${namespace}">` : `<${root}>`];
  for (const [name, value] of Object.entries(content)) {
    if (name === '#text') out.push(escapeXml(String(value ?? '')));
    else renderValue(name, value, out);
  }
  out.push(`</${root}>`);
  return out.join('');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  // XML's five named entities and numeric character references (&#34;, &#x22;), which clients'
  // XML writers use (rclone quotes ETags so); no HTML names. Every reference reaching it is valid (see below).
  entityDecoder: new EntityDecoder({ numericAllowed: true }),
});

/** Sections whose text is literal: references there are not references. */
const LITERAL_SECTIONS = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g;

/**
 * Whether every `&#` starts a character reference to a character XML 1.0 allows
 * (its Char production). Anything else makes the document not well-formed; the
 * decoder would instead drop or keep it literally, so a key would silently change.
 */
function characterReferencesValid(text: string): boolean {
  const outside = text.replace(LITERAL_SECTIONS, '');
  const reference = /&#(?:([0-9]+)|x([0-9a-fA-F]+));/y;
  for (let at = outside.indexOf('&#'); at >= 0; at = outside.indexOf('&#', reference.lastIndex)) {
    reference.lastIndex = at;
    const ref = reference.exec(outside);
    if (!ref) return false;
    const cp = ref[1] !== undefined ? Number(ref[1]) : parseInt(ref[2]!, 16);
    const allowed = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff)
      || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!allowed) return false;
  }
  return true;
}

/** A parsed element: text or child elements, each child possibly repeated. */
export type ParsedXml = string | { [name: string]: ParsedXml | ParsedXml[] };

/**
 * Parses a request document and returns its root element's content, or throws
 * MalformedXML. Document type declarations are refused outright: S3 documents
 * never need one, and they are the door to entity-expansion attacks.
 */
export function parseXml(text: string, root: string): ParsedXml {
  if (/<!DOCTYPE|<!ENTITY/i.test(text) || !characterReferencesValid(text)) throw new S3Error('MalformedXML');
  let doc: unknown;
  try {
    doc = parser.parse(text, true);
  } catch {
    throw new S3Error('MalformedXML');
  }
  if (typeof doc !== 'object' || doc === null || !(root in doc)) throw new S3Error('MalformedXML');
  const content = (doc as Record<string, ParsedXml>)[root];
  return content === undefined ? '' : content;
}

/** The children named `name` of an element, as a list. */
export function childrenOf(node: ParsedXml | ParsedXml[] | undefined, name: string): ParsedXml[] {
  if (node === undefined || typeof node === 'string' || Array.isArray(node)) return [];
  const child = node[name];
  if (child === undefined) return [];
  return Array.isArray(child) ? child : [child];
}

/** Whether an element holds only child elements named in `known` (whitespace between them aside). */
export function onlyKnownChildren(node: ParsedXml, known: ReadonlySet<string>): boolean {
  if (typeof node === 'string') return node.trim() === '';
  return Object.entries(node).every(([name, value]) =>
    known.has(name) || (name === '#text' && typeof value === 'string' && value.trim() === ''));
}

/** The text of the single child `name`, undefined when absent; MalformedXML when repeated or not text. */
export function textOf(node: ParsedXml | undefined, name: string): string | undefined {
  const found = childrenOf(node, name);
  if (found.length === 0) return undefined;
  if (found.length > 1) throw new S3Error('MalformedXML');
  const value = found[0]!;
  if (typeof value === 'string') return value;
  if (Object.keys(value).length === 0) return '';
  throw new S3Error('MalformedXML');
}
