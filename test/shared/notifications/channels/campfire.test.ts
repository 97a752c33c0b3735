// The Campfire channel through the real outbound client against a local room bot endpoint: the plain
// POST, 201, retries and refusals, and a title that cannot add markup to the room.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { campfireChannel } from '#shared/notifications/channels/campfire';
import { type CampfireRoom, startCampfireRoom } from '../../../support/vendors/campfire';
import {
  deliveryContext,
  deployEvent,
  itemEvent,
  PUBLIC_URL,
  ruleFor,
} from '../../../support/vendors/deliveries';
import { answers } from '../../../support/vendors/vendor-server';

let room: CampfireRoom;
beforeAll(async () => {
  room = await startCampfireRoom();
});
afterAll(async () => {
  await room?.stop();
});
beforeEach(() => {
  room.received.length = 0;
});

const deliver = (event = itemEvent(), url = room.url) =>
  campfireChannel.deliver(deliveryContext(ruleFor('campfire', { url }), event));

describe('campfire channel', () => {
  it('a new item is posted as the text body with a link to the item, and Campfire answers 201', async () => {
    expect(await deliver()).toMatchObject({ status: 'sent', httpStatus: 201 });
    const [request] = room.received;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(request?.body).toBe(
      `New error in production: #12 TypeError: Cannot read properties of undefined (reading &#39;id&#39;) <a href="${PUBLIC_URL}/items/12">${PUBLIC_URL}/items/12</a>`,
    );
  });

  it('a title with markup is escaped, so it cannot add a script or a link to the room', async () => {
    await deliver(
      itemEvent('new_item', {}, { title: '<script>alert(1)</script><a href="https://evil.example">x</a>' }),
    );
    const body = room.received[0]?.body ?? '';
    expect(body).toContain(
      '&#60;script&#62;alert(1)&#60;/script&#62;&#60;a href=&#34;https://evil.example&#34;&#62;',
    );
    expect(body).not.toContain('<script>');
    expect(body.match(/<a /g)).toHaveLength(1);
  });

  it('a long title is cut to one 1,000-character line', async () => {
    await deliver(itemEvent('new_item', {}, { title: `line one\nline two ${'z'.repeat(5000)}` }));
    const headline = (room.received[0]?.body ?? '').split(' <a ')[0] ?? '';
    expect(headline).not.toContain('\n');
    expect(headline.length).toBe(1000);
  });

  it('a deploy is told without a link', async () => {
    await deliver(deployEvent());
    expect(room.received[0]?.body).toBe('Deploy of 9f8e7d6c5b4a in production by ana');
  });

  it('a 429 is retried with its hint, a 503 retried, and the next try sent', async () => {
    room.script(answers.rateLimited(5), answers.serverError(503));
    expect(await deliver()).toEqual(expect.objectContaining({ status: 'retry', retryAfterMs: 5000 }));
    expect(await deliver()).toMatchObject({ status: 'retry', httpStatus: 503 });
    expect(await deliver()).toMatchObject({ status: 'sent', httpStatus: 201 });
  });

  it('a wrong bot key fails for good (404)', async () => {
    expect(await deliver(itemEvent(), room.url.replace('42-bot', '42-forged'))).toMatchObject({
      status: 'failed',
      httpStatus: 404,
    });
  });
});
