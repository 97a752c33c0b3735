// Access tokens: generated once, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes } from 'node:crypto';

export const SCOPES = ['post_server_item', 'post_client_item', 'read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

/** 32 hex characters, the shape of a Rollbar access token. */
export function generateAccessToken(): string {
  return randomBytes(16).toString('hex');
}

/** Tokens are 128 random bits, so a plain SHA-256 is enough: there is nothing to brute-force. */
export function hashAccessToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
