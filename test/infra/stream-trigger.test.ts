// A stream trigger the stack cannot honour fails the synth, not the deployment: a table without a
// stream, or a filter that could match nothing.
import { App, Stack } from 'aws-cdk-lib';
import { AttributeType, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it, vi } from 'vitest';
import { FaultlineFunction } from '#infra/constructs/faultline-function';
import { RegionalStack } from '#infra/stacks/regional-stack';
import { functions } from '#shared/wiring/topology';

// The occurrences table as if someone dropped its stream; the fold still declares it as its trigger.
vi.mock('#shared/wiring/tables', async (importOriginal) => {
  const original = await importOriginal<typeof import('#shared/wiring/tables')>();
  return {
    ...original,
    tables: { ...original.tables, occurrences: { ...original.tables.occurrences, stream: undefined } },
  };
});

const skipBundling = { 'aws:cdk:bundling-stacks': [] };

describe('a stream trigger', () => {
  it('on a table that declares no stream stops the synth, naming the function and the table', () => {
    expect(functions.foldOccurrences.trigger).toMatchObject({ kind: 'stream', table: 'occurrences' });
    const app = new App({ context: skipBundling });
    expect(() => new RegionalStack(app, 'NoStream')).toThrow(
      'foldOccurrences is triggered by the stream of occurrences, which declares none',
    );
  });

  it.each([
    { eventNames: [], entities: ['occurrence'] },
    { eventNames: ['INSERT'], entities: [] },
  ] as const)('with an empty filter list is refused ($eventNames, $entities)', (filter) => {
    const stack = new Stack(new App({ context: skipBundling }), 'EmptyFilter');
    const table = new TableV2(stack, 'Table', {
      partitionKey: { name: 'PK', type: AttributeType.STRING },
      dynamoStream: StreamViewType.NEW_IMAGE,
    });
    const fn = new FaultlineFunction(stack, 'Consumer', { entry: functions.foldOccurrences.entry });
    expect(() =>
      fn.consumeStream(table, {
        batchSize: 10,
        startingPosition: 'TRIM_HORIZON',
        bisectOnError: false,
        filter,
        onFailure: new Queue(stack, 'Failures'),
      }),
    ).toThrow('a stream filter needs at least one value per field');
  });
});
