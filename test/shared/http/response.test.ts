// Answers in Rollbar's shapes, which SDKs read: `err` 0 with a result, or 1 with a message.
import { describe, expect, it } from 'vitest';
import { json, ok, rollbarError } from '#shared/http/response';

describe('an answer', () => {
  it('of success is {"err":0,"result":…} in JSON, 200 unless told', () => {
    const answer = ok({ id: null, uuid: 'u' });
    expect(answer).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"err":0,"result":{"id":null,"uuid":"u"}}',
    });
    expect(ok({ deploy_id: 1 }, 201).statusCode).toBe(201);
  });

  it('of refusal is {"err":1,"message":…} in JSON with its status', () => {
    expect(rollbarError(422, 'Invalid format. data.body is missing')).toEqual({
      statusCode: 422,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"err":1,"message":"Invalid format. data.body is missing"}',
    });
  });

  it('in a shape of its own is written as given, as the deploy API answers', () => {
    expect(JSON.parse(json(200, { data: { deploy_id: 7 } }).body as string)).toEqual({
      data: { deploy_id: 7 },
    });
  });
});
