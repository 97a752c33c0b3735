// The local queue accepts exactly the message bodies SQS accepts: emoji and every character beyond
// U+FFFF, and refuses, as SQS does, the characters outside its ranges and lone surrogates.
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Queues, startQueues } from '../../support/emulators';

let queues: Queues;
let queueUrl: string;

beforeAll(async () => {
  queues = await startQueues({ prefix: 'characters' });
  queueUrl = queues.queues.ingest.url;
});

afterAll(async () => {
  await queues?.stop();
});

async function sendAndReceive(body: string): Promise<string | undefined> {
  await queues.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  const { Messages = [] } = await queues.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
  );
  return Messages[0]?.Body;
}

async function refusal(body: string): Promise<string | undefined> {
  try {
    await queues.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    return undefined;
  } catch (error) {
    return (error as Error).name;
  }
}

describe('the local queue takes the message bodies SQS takes', () => {
  it.each([
    ['an emoji', 'checkout failed 💥'],
    ['a flag (two characters beyond U+FFFF)', 'shipping to 🇫🇷'],
    ['a surrogate pair written out', '\uD83D\uDE00'],
    ['the last character SQS allows', String.fromCodePoint(0x10ffff)],
    ['the first character beyond U+FFFF', String.fromCodePoint(0x10000)],
    ['tabs, newlines and carriage returns', 'line one\r\n\tline two'],
    ['the edges of the lower ranges', ' \uD7FF\uE000\uFFFD'],
  ])('accepts %s, and delivers it unchanged', async (_case, body) => {
    expect(await sendAndReceive(body)).toBe(body);
  });

  it.each([
    ['U+FFFE', 'before \uFFFE after'],
    ['U+FFFF', 'before \uFFFF after'],
    ['a lone high surrogate', 'before \uD83D after'],
    ['a lone low surrogate', 'before \uDE00 after'],
    ['a surrogate pair in the wrong order', '\uDE00\uD83D'],
    ['a NUL', 'before \u0000 after'],
    ['a control character', 'before \u001B after'],
  ])('refuses %s with InvalidMessageContents, as SQS does', async (_case, body) => {
    // fauxqs names it as SQS's query protocol did: `AWS.SimpleQueueService.InvalidMessageContents`.
    expect(await refusal(body)).toMatch(/InvalidMessageContents$/);
  });

  it('takes emoji in a batch too, and refuses only the entry SQS would refuse', async () => {
    const result = await queues.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'emoji', MessageBody: 'batch 🚀' },
          { Id: 'lone', MessageBody: 'batch \uD800' },
        ],
      }),
    );
    expect(result.Successful?.map((entry) => entry.Id)).toEqual(['emoji']);
    expect(result.Failed?.map((entry) => [entry.Id, entry.Code])).toEqual([
      ['lone', 'InvalidMessageContents'],
    ]);
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((message) => message.Body)).toEqual(['batch 🚀']);
  });
});
