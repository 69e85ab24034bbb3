/** CORS rule matching and CORSConfiguration parsing, without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCorsConfiguration } from '../../src/api/cors.js';
import { matchCorsRule } from '../../src/http/cors.js';
import type { CorsRule } from '../../src/store/types.js';

const rule = (over: Partial<CorsRule>): CorsRule => ({ allowedMethods: ['GET'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [], ...over });

test('one wildcard in an origin stands for any run of characters, and only that', () => {
  const rules = [rule({ id: 'sub', allowedOrigins: ['https://*.example.com'] })];
  assert.equal(matchCorsRule(rules, 'https://a.example.com', 'GET')?.id, 'sub');
  assert.equal(matchCorsRule(rules, 'https://a.b.example.com', 'GET')?.id, 'sub');
  assert.equal(matchCorsRule(rules, 'https://example.com', 'GET'), undefined);
  assert.equal(matchCorsRule(rules, 'https://a.example.com.evil', 'GET'), undefined);
  assert.equal(matchCorsRule(rules, 'http://a.example.com', 'GET'), undefined);
  // Prefix and suffix may not overlap: "https://*s" does not match "https:/s".
  assert.equal(matchCorsRule([rule({ allowedOrigins: ['https://*s'] })], 'https:/s', 'GET'), undefined);
});

test('the first rule that allows origin, method and every requested header wins', () => {
  const rules = [
    rule({ id: 'put', allowedOrigins: ['https://app.test'], allowedMethods: ['PUT'], allowedHeaders: ['Content-Type', 'x-amz-meta-*'] }),
    rule({ id: 'any-header', allowedOrigins: ['https://app.test'], allowedMethods: ['PUT', 'GET'], allowedHeaders: ['*'] }),
    rule({ id: 'read', allowedMethods: ['GET'] }),
  ];
  assert.equal(matchCorsRule(rules, 'https://app.test', 'PUT', ['content-type', 'x-amz-meta-a'])?.id, 'put');
  assert.equal(matchCorsRule(rules, 'https://app.test', 'PUT', ['x-amz-acl'])?.id, 'any-header');
  assert.equal(matchCorsRule(rules, 'https://app.test', 'GET')?.id, 'any-header');
  assert.equal(matchCorsRule(rules, 'https://other.test', 'GET')?.id, 'read');
  assert.equal(matchCorsRule(rules, 'https://other.test', 'PUT'), undefined);
  assert.equal(matchCorsRule(rules, 'https://other.test', 'get'), undefined);
});

test('a configuration parses with whitespace between elements, and refuses unknown elements', () => {
  const rules = parseCorsConfiguration(`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <CORSRule>
      <ID>one</ID>
      <AllowedOrigin>https://*.example.com</AllowedOrigin>
      <AllowedMethod>GET</AllowedMethod>
      <AllowedMethod>HEAD</AllowedMethod>
      <AllowedHeader>*</AllowedHeader>
      <ExposeHeader>ETag</ExposeHeader>
      <MaxAgeSeconds>3000</MaxAgeSeconds>
    </CORSRule>
  </CORSConfiguration>`);
  assert.deepEqual(rules, [{
    id: 'one', allowedMethods: ['GET', 'HEAD'], allowedOrigins: ['https://*.example.com'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 3000,
  }]);
  const bad = ['<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Colour/></CORSRule></CORSConfiguration>',
    '<CORSConfiguration><Rule/></CORSConfiguration>',
    '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>',
    '<CORSConfiguration><CORSRule><AllowedOrigin><x/></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'];
  for (const xml of bad) assert.throws(() => parseCorsConfiguration(xml), { code: 'MalformedXML' }, xml);
});
