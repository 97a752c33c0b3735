// The local SES emulator: started in process on a free port, it takes SES v2 SendEmail from the real
// SDK and lists what it received; its inbox page is served at the address printed at start.
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSes, startLocalSes } from '#infra/local/ses-local';
import { credentials, region } from '../../support/emulators';

let ses: LocalSes;
let client: SESv2Client;
beforeAll(async () => {
  ses = await startLocalSes();
  client = new SESv2Client({ endpoint: ses.endpoint, region, credentials });
});
afterAll(async () => {
  client?.destroy();
  await ses?.stop();
});

const send = (subject: string) =>
  client.send(
    new SendEmailCommand({
      FromEmailAddress: 'faultline@example.com',
      Destination: { ToAddresses: ['ops@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: subject },
          Body: { Text: { Data: 'text' }, Html: { Data: '<p>html</p>' } },
        },
      },
    }),
  );

describe('local SES', () => {
  it('listens on 127.0.0.1 on a free port', () => {
    expect(ses.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ses.endpoint).not.toMatch(/:8005$/);
  });

  it('a mail sent with the SES v2 SDK is listed with its subject, addresses and both bodies', async () => {
    const { MessageId } = await send('Hello from the test');
    const emails = await ses.emails();
    expect(emails).toContainEqual(
      expect.objectContaining({
        messageId: MessageId,
        from: 'faultline@example.com',
        destination: expect.objectContaining({ to: ['ops@example.com'] }),
        subject: 'Hello from the test',
        body: { text: 'text', html: '<p>html</p>' },
      }),
    );
  });

  it('the inbox page is served', async () => {
    const response = await fetch(ses.inboxUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('clear empties the inbox', async () => {
    await send('to be cleared');
    await ses.clear();
    expect(await ses.emails()).toEqual([]);
  });

  it('after stop, nothing listens on its port', async () => {
    const other = await startLocalSes();
    await other.stop();
    await expect(fetch(`${other.endpoint}/health-check`)).rejects.toThrow();
  });
});
