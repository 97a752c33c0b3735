// `faultline dlq list|show|redrive` on fauxqs, with the declared queues and their redrive policies:
// looking loses nothing, redrive moves what was there, and a poison message comes back only once.
import { randomUUID } from 'node:crypto';
import {
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DeadLetterNotFoundError,
  type DeadLetterQueues,
  deadLetterLines,
  listDeadLetters,
  redriveDeadLetters,
  showDeadLetter,
} from '#shared/cli/dlq';
import { queues as declared } from '#shared/wiring/topology';
import { type Queues, startQueues } from '../../support/emulators';

let queues: Queues;
let ingest: DeadLetterQueues;

beforeAll(async () => {
  queues = await startQueues({ prefix: 'dlq' });
  ingest = {
    name: 'ingest',
    source: queues.queues.ingest.url,
    deadLetter: queues.queues.ingest.deadLetterUrl,
  };
});

afterAll(async () => {
  await queues?.stop();
});

beforeEach(async () => {
  // Each test starts with both queues empty, in-flight messages included.
  for (const url of [ingest.source, ingest.deadLetter]) {
    await queues.client.send(new PurgeQueueCommand({ QueueUrl: url }));
  }
});

function capture() {
  const chunks: string[] = [];
  return { isTTY: false, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

async function receive(url: string, visibility = 0, max = 10): Promise<Message[]> {
  const { Messages = [] } = await queues.client.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: max, VisibilityTimeout: visibility }),
  );
  return Messages;
}

async function drain(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let batch = await receive(url, 300); batch.length > 0; batch = await receive(url, 300))
    all.push(...batch);
  return all;
}

/**
 * Plays a consumer that fails every message in the source queue, until the queue's redrive policy
 * moves them to the dead-letter queue (after `maxReceiveCount` receives).
 */
async function failUntilDeadLettered(): Promise<void> {
  for (let receives = 0; receives <= declared.ingest.maxReceiveCount; receives++) {
    await receive(ingest.source);
  }
  expect(await receive(ingest.source)).toEqual([]);
}

async function deadLetter(bodies: string[]): Promise<void> {
  for (const body of bodies) {
    await queues.client.send(new SendMessageCommand({ QueueUrl: ingest.source, MessageBody: body }));
  }
  await failUntilDeadLettered();
}

const occurrenceBody = (uuid: string) =>
  JSON.stringify({ version: 1, project_id: 3, grouping_version: 2, received_at: Date.now(), uuid, data: {} });

describe('faultline dlq', () => {
  it('list shows the count, the oldest age and a line per dead letter, and loses none', async () => {
    const uuid = randomUUID();
    await deadLetter([occurrenceBody(uuid), 'not json']);

    const list = await listDeadLetters(queues.client, ingest);

    expect(list).toMatchObject({ queue: 'ingest', count: 2 });
    expect(list.oldest_age_seconds).toBeGreaterThanOrEqual(0);
    const lines = deadLetterLines(list);
    expect(lines[0]).toMatch(/^ingest dead-letter queue: 2 messages, oldest \d+ s old$/);
    expect(lines.slice(1).join('\n')).toContain(`project 3 uuid ${uuid}`);
    expect(lines.slice(1).join('\n')).toContain('unreadable: "not json"');
    expect(list.messages[0]!.receive_count).toBeGreaterThanOrEqual(declared.ingest.maxReceiveCount);
    // Looking made them visible again at once: a second look sees both.
    expect((await listDeadLetters(queues.client, ingest)).messages).toHaveLength(2);
  });

  it('show prints one dead letter in full; a message that is not there is refused', async () => {
    const uuid = randomUUID();
    await deadLetter([occurrenceBody(uuid)]);
    const [line] = (await listDeadLetters(queues.client, ingest)).messages;

    const shown = await showDeadLetter(queues.client, ingest, line!.id);

    expect(shown).toMatchObject({ id: line!.id, queue: 'ingest', body: { project_id: 3, uuid } });
    await expect(showDeadLetter(queues.client, ingest, randomUUID())).rejects.toThrow(
      DeadLetterNotFoundError,
    );
  });

  it('redrive moves every dead letter back to its queue, with a progress bar', async () => {
    await deadLetter([occurrenceBody(randomUUID()), occurrenceBody(randomUUID())]);
    const out = capture();

    const summary = await redriveDeadLetters(queues.client, ingest, out);

    expect(summary).toEqual({ queue: 'ingest', moved: 2, left: 0 });
    expect(out.text()).toMatch(/^ingest dead letters \[#{20}\] 2\/2 moved$/m);
    const back = await drain(ingest.source);
    expect(back.map((message) => JSON.parse(message.Body!).project_id)).toEqual([3, 3]);
    expect(await drain(ingest.deadLetter)).toEqual([]);
  });

  it('a redriven poison message that fails again goes back to the dead-letter queue once, and waits there', async () => {
    const [good, poison] = [randomUUID(), randomUUID()];
    await deadLetter([occurrenceBody(good), occurrenceBody(poison)]);
    // Another dead letter is being looked at (in flight) when the redrive starts: it counts in the
    // redrive's bound but cannot be received, so the bound alone would let the poison round again.
    const [inFlight] = await receive(ingest.deadLetter, 300, 1);
    expect(JSON.parse(inFlight!.Body!).uuid).toBe(good);

    const summary = await redriveDeadLetters(queues.client, ingest, capture(), {
      // The storing worker fails the poison again until its queue dead-letters it.
      onMoved: failUntilDeadLettered,
    });

    expect(summary.moved).toBe(1);
    const waiting = await drain(ingest.deadLetter);
    expect(waiting.map((message) => JSON.parse(message.Body!).uuid)).toEqual([poison]);
  });
});
