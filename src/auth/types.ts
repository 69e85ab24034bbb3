import type { Readable } from 'node:stream';

/** Who sent a request. `anonymous` means no signature at all. */
export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'account'; readonly accountId: string; readonly accessKeyId: string };

/** A secret key and the account it belongs to. */
export interface SigningKey {
  readonly secretKey: string;
  readonly accountId: string;
}

/** Finds the secret for an access key id; undefined when unknown or revoked. */
export type SecretLookup = (accessKeyId: string) => Promise<SigningKey | undefined>;

/** What authentication hands to the API layer. */
export interface Authenticated {
  readonly principal: Principal;
  /**
   * The payload as the client meant it: aws-chunked framing removed. The stream
   * fails with an S3Error (SignatureDoesNotMatch, XAmzContentSHA256Mismatch,
   * IncompleteBody, …) before 'end' when the payload does not verify, so a
   * consumer that waits for 'end' never commits unverified bytes.
   */
  readonly body: Readable;
  /** Decoded payload length when the client declared it, else undefined. */
  readonly contentLength: number | undefined;
  /** Trailing headers of an aws-chunked body (e.g. x-amz-checksum-crc32); complete once body has ended. */
  readonly trailers: ReadonlyMap<string, string>;
}
