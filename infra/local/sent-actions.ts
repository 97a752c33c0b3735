// Records the DynamoDB and SQS actions each local function sends, so the wiring's grants can be held
// to what the handlers really do (test/infra/wiring.test.ts).
//
// The record is taken where every AWS SDK request leaves the process (node:http's ClientRequest):
// its `X-Amz-Target` names the operation and its JSON body the tables or the queue, and the local
// runtime says which function's invocation sent it. Only requests sent inside an invocation count:
// the pollers' own reads are Lambda's event source mappings, not the function's code.
import { ClientRequest } from 'node:http';
import { runningFunction } from './lambda-runtime';

export interface SentAction {
  /** The function, as the wiring names it. */
  functionName: string;
  service: 'dynamodb' | 'sqs';
  /** As IAM names it: a transaction's `Put` is a PutItem, its `Update` an UpdateItem. */
  action: string;
  /** The table name, or the queue URL. */
  resource: string;
}

export interface SentActionRecorder {
  readonly actions: readonly SentAction[];
  stop(): void;
}

const transactionActions: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

/** SQS's batch calls are authorized by the single message's action: IAM has no `sqs:SendMessageBatch`. */
const sqsBatchActions: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** Starts recording; one recorder at a time per process. */
export function recordSentActions(): SentActionRecorder {
  const actions: SentAction[] = [];
  const bodies = new WeakMap<ClientRequest, Buffer[]>();
  const prototype = ClientRequest.prototype;
  const { write, end } = prototype;

  const keep = (request: ClientRequest, chunk: unknown): void => {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return;
    const chunks = bodies.get(request) ?? [];
    chunks.push(Buffer.from(chunk));
    bodies.set(request, chunks);
  };

  // biome-ignore lint/suspicious/noExplicitAny: node:http's overloads are passed through unchanged
  prototype.write = function (this: ClientRequest, chunk: unknown, ...rest: any[]) {
    keep(this, chunk);
    return Reflect.apply(write, this, [chunk, ...rest]);
  } as typeof write;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  prototype.end = function (this: ClientRequest, chunk?: unknown, ...rest: any[]) {
    keep(this, chunk);
    const functionName = runningFunction();
    const target = this.getHeader('x-amz-target');
    if (functionName && typeof target === 'string') {
      const body = Buffer.concat(bodies.get(this) ?? []).toString('utf8');
      actions.push(...actionsOf(functionName, target, body));
    }
    return Reflect.apply(end, this, [chunk, ...rest]);
  } as typeof end;

  return {
    actions,
    stop() {
      prototype.write = write;
      prototype.end = end;
    },
  };
}

/** The actions one request asks for, from its target (`DynamoDB_20120810.GetItem`) and its JSON body. */
function actionsOf(functionName: string, target: string, body: string): SentAction[] {
  const [service, operation = ''] = target.split('.');
  const input = (body ? JSON.parse(body) : {}) as Record<string, unknown>;
  if (service === 'AmazonSQS') {
    const action = sqsBatchActions[operation] ?? operation;
    return [{ functionName, service: 'sqs', action, resource: String(input.QueueUrl) }];
  }
  if (!service?.startsWith('DynamoDB_')) return [];
  const sent = (action: string, table: unknown): SentAction => ({
    functionName,
    service: 'dynamodb',
    action,
    resource: String(table),
  });
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((input.RequestItems ?? {}) as object).map((table) => sent(operation, table));
  }
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return ((input.TransactItems ?? []) as Array<Record<string, { TableName?: string }>>).flatMap((item) =>
      Object.entries(item).map(([kind, request]) =>
        sent(transactionActions[kind] ?? kind, request.TableName),
      ),
    );
  }
  return [sent(operation, input.TableName)];
}
