// Channel credentials at rest: sealed with AES-256-GCM under one installation key, and masked
// whenever a rule is shown. In AWS the key is a Secrets Manager secret the stack generates (read
// once per container); locally it is `.faultline/secrets.key`, made at the first start.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError } from '#shared/config';
import { channelConfigs } from './channel-configs';
import type { ChannelName } from './model';

/** The variable holding the key itself (base64 of 32 bytes): the local stack and tests. */
export const SECRETS_KEY_VAR = 'FAULTLINE_SECRETS_KEY';
/**
 * The variable naming the Secrets Manager secret that holds it (its ARN, or in a standby region the
 * name of the home's replica): AWS.
 */
export const SECRETS_KEY_SECRET_VAR = 'FAULTLINE_SECRETS_KEY_SECRET';

const VERSION = 'v1';

export class SealedValueError extends Error {
  override readonly name = 'SealedValueError';
}

export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32)
    throw new ConfigurationError('the secrets key must be 32 bytes (base64 of 32 random bytes)');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [
        VERSION,
        iv.toString('base64'),
        cipher.getAuthTag().toString('base64'),
        body.toString('base64'),
      ].join(':');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split(':');
      if (version !== VERSION || !iv || !tag || body === undefined)
        throw new SealedValueError('not a sealed value');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString(
          'utf8',
        );
      } catch (error) {
        throw new SealedValueError('a sealed value cannot be opened with this key', { cause: error });
      }
    },
  };
}

export function generateSecretsKey(): string {
  return randomBytes(32).toString('base64');
}

/** The key from the environment: the key itself, or the secret that holds it (one read per container). */
export async function loadSecretBox(env: NodeJS.ProcessEnv = process.env): Promise<SecretBox> {
  const inline = env[SECRETS_KEY_VAR];
  if (inline) return createSecretBox(Buffer.from(inline, 'base64'));
  const secret = env[SECRETS_KEY_SECRET_VAR];
  if (!secret)
    throw new ConfigurationError(
      `environment variable ${SECRETS_KEY_VAR} or ${SECRETS_KEY_SECRET_VAR} is not set`,
    );
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secret }));
    if (!SecretString) throw new ConfigurationError(`the secret ${secret} holds no string`);
    return createSecretBox(keyOfSecretString(SecretString));
  } finally {
    client.destroy();
  }
}

/**
 * The stack generates the secret as 64 random letters and digits (Secrets Manager cannot make raw
 * bytes): their SHA-256 is the key. A secret set by hand to base64 of 32 bytes is used as it is.
 */
export function keyOfSecretString(secret: string): Buffer {
  const decoded = Buffer.from(secret, 'base64');
  if (decoded.length === 32 && decoded.toString('base64') === secret.trim()) return decoded;
  return createHash('sha256').update(secret, 'utf8').digest();
}

const MASK = '••••';

/** Shows the last four characters of a long credential, nothing of a short one. */
export function maskSecret(value: string): string {
  return value.length >= 16 ? `${MASK}${value.slice(-4)}` : MASK;
}

export function isMasked(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith(MASK);
}

/** A config as it may be shown: every credential masked. */
export function maskConfig(channel: ChannelName, config: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...config };
  for (const field of channelConfigs[channel].secretFields) {
    const value = shown[field];
    if (typeof value === 'string') shown[field] = maskSecret(value);
  }
  return shown;
}

/**
 * A config sent back as it was shown (credentials masked) keeps the stored credentials: clients
 * that read a rule, change a filter and PUT it back must not wipe its token.
 */
export function keepMaskedSecrets(
  channel: ChannelName,
  incoming: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...incoming };
  for (const field of channelConfigs[channel].secretFields) {
    if (isMasked(merged[field]) && typeof stored[field] === 'string') merged[field] = stored[field];
  }
  return merged;
}

/** Splits a config into what is stored in the clear and one sealed blob of its credentials. */
export function sealConfig(
  channel: ChannelName,
  config: Record<string, unknown>,
  box: SecretBox,
): { config: Record<string, unknown>; sealed?: string } {
  const clear = { ...config };
  const secrets: Record<string, unknown> = {};
  for (const field of channelConfigs[channel].secretFields) {
    if (field in clear) {
      secrets[field] = clear[field];
      delete clear[field];
    }
  }
  return Object.keys(secrets).length > 0
    ? { config: clear, sealed: box.seal(JSON.stringify(secrets)) }
    : { config: clear };
}

export function openConfig(
  config: Record<string, unknown>,
  sealed: string | undefined,
  box: SecretBox,
): Record<string, unknown> {
  return sealed ? { ...config, ...(JSON.parse(box.open(sealed)) as Record<string, unknown>) } : { ...config };
}
