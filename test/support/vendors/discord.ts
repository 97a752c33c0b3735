// Discord's execute-webhook endpoint as documented: POST JSON to /api/webhooks/{id}/{token}; with
// `?wait=true` it answers 200 and the message, else 204; embed limits (title 256, description 4096, 25
// fields, field name 256 / value 1024, footer 2048, 6000 characters in all) and a message with neither
// content nor embeds are 400 "Invalid Form Body" (code 50035); an unknown webhook 404 (code 10015);
// 429 carries `retry_after` (seconds) in the JSON body and a Retry-After header.
import { isObject, jsonOf, startVendorServer, type VendorAnswer, type VendorServer } from './vendor-server';

export const DISCORD_WEBHOOK_PATH = '/api/webhooks/112233445566778899/tokenPartOfTheUrl-abcDEF';

export interface DiscordWebhook extends VendorServer {
  url: string;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): VendorAnswer => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const invalidFormBody = (problem: string) =>
  json(400, { code: 50035, message: 'Invalid Form Body', errors: problem });

const length = (value: unknown) => (typeof value === 'string' ? [...value].length : 0);

function embedProblem(embed: unknown): string | undefined {
  if (!isObject(embed)) return 'embed is not an object';
  if (length(embed.title) > 256) return 'embed title over 256';
  if (length(embed.description) > 4096) return 'embed description over 4096';
  const fields = Array.isArray(embed.fields) ? embed.fields : [];
  if (fields.length > 25) return 'more than 25 fields';
  for (const field of fields) {
    if (!isObject(field) || length(field.name) === 0 || length(field.value) === 0)
      return 'a field without name or value';
    if (length(field.name) > 256 || length(field.value) > 1024) return 'a field over its limits';
  }
  const footer = isObject(embed.footer) ? embed.footer.text : undefined;
  if (length(footer) > 2048) return 'footer over 2048';
  return undefined;
}

export async function startDiscordWebhook(): Promise<DiscordWebhook> {
  let messageId = 1_200_000_000_000_000_000n;
  const server = await startVendorServer({
    check(request) {
      if (request.method !== 'POST' || request.path !== DISCORD_WEBHOOK_PATH) {
        return json(404, { message: 'Unknown Webhook', code: 10015 });
      }
      const body = jsonOf(request.body);
      if (!request.headers['content-type']?.startsWith('application/json') || !isObject(body)) {
        return json(400, { message: 'Cannot send an empty message', code: 50006 });
      }
      const embeds = Array.isArray(body.embeds) ? body.embeds : [];
      if (length(body.content) === 0 && embeds.length === 0) {
        return json(400, { message: 'Cannot send an empty message', code: 50006 });
      }
      if (length(body.content) > 2000) return invalidFormBody('content over 2000');
      if (embeds.length > 10) return invalidFormBody('more than 10 embeds');
      if (typeof body.username === 'string' && /discord|clyde/i.test(body.username)) {
        return invalidFormBody('username may not contain "discord" or "clyde"');
      }
      for (const embed of embeds) {
        const problem = embedProblem(embed);
        if (problem) return invalidFormBody(problem);
      }
      const total = embeds.reduce<number>((sum, embed) => {
        if (!isObject(embed)) return sum;
        const fields = Array.isArray(embed.fields) ? embed.fields : [];
        return (
          sum +
          length(embed.title) +
          length(embed.description) +
          fields.reduce<number>(
            (n, field) => n + (isObject(field) ? length(field.name) + length(field.value) : 0),
            0,
          )
        );
      }, 0);
      if (total > 6000) return invalidFormBody('embeds over 6000 characters in all');
      return undefined;
    },
    success(request) {
      if (request.query.get('wait') !== 'true') return { status: 204 };
      messageId += 1n;
      return json(200, {
        id: String(messageId),
        type: 0,
        channel_id: '1',
        ...(jsonOf(request.body) as object),
      });
    },
  });
  return { ...server, url: `${server.origin}${DISCORD_WEBHOOK_PATH}` };
}

/** Discord's 429: the wait in the body (seconds, fractional) and in Retry-After. */
export const discordRateLimited = (seconds: number): VendorAnswer =>
  json(
    429,
    { message: 'You are being rate limited.', retry_after: seconds, global: false },
    { 'retry-after': String(Math.ceil(seconds)), 'x-ratelimit-scope': 'user' },
  );
