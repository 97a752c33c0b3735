// Runs fauxqs in process and creates the declared queues with their dead-letter queues, as the CDK stack does.
import { type FauxqsServer, interceptLocalhostDns, startFauxqs } from 'fauxqs';
import { type QueueName, queues } from '#shared/wiring/topology';

export interface LocalQueuesOptions {
  /** Prefix of the local queue names: `${prefix}-${logicalId}`. */
  prefix?: string;
  /** Visibility timeouts in seconds that replace the declared ones (tests need quick retries). */
  visibilityTimeoutOverrides?: Partial<Record<QueueName, number>>;
}

export interface LocalQueue {
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
}

export interface LocalQueues {
  /**
   * The SQS endpoint, on the origin of the queue URLs (`http://sqs.us-east-1.localhost:PORT`): the SDK
   * sends a request to its QueueUrl's origin when that differs from the endpoint, so they must match.
   */
  endpoint: string;
  /** The fauxqs server, for inspecting queues in tests. */
  server: FauxqsServer;
  queues: Record<QueueName, LocalQueue>;
  stop(): Promise<void>;
}

export async function startQueues(options: LocalQueuesOptions = {}): Promise<LocalQueues> {
  const prefix = options.prefix ?? 'faultline';
  await acceptWhatSqsAccepts();
  const releaseDns = acquireLocalhostDns();
  const server = await startFauxqs({ port: 0, logger: false });
  const created = {} as Record<QueueName, LocalQueue>;
  for (const name of Object.keys(queues) as QueueName[]) {
    const declared = queues[name];
    const deadLetter = server.createQueue(`${prefix}-${declared.deadLetter.logicalId}`, {
      attributes: { MessageRetentionPeriod: String(declared.deadLetter.retentionDays * 86_400) },
    });
    const queue = server.createQueue(`${prefix}-${declared.logicalId}`, {
      attributes: {
        VisibilityTimeout: String(
          options.visibilityTimeoutOverrides?.[name] ?? declared.visibilityTimeoutSeconds,
        ),
        MessageRetentionPeriod: String(declared.retentionDays * 86_400),
        MaximumMessageSize: String(declared.maxMessageSizeBytes),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: deadLetter.queueArn,
          maxReceiveCount: declared.maxReceiveCount,
        }),
      },
    });
    created[name] = {
      url: queue.queueUrl,
      arn: queue.queueArn,
      deadLetterUrl: deadLetter.queueUrl,
      deadLetterArn: deadLetter.queueArn,
    };
  }
  const endpoint = new URL(Object.values(created)[0]?.url ?? `http://sqs.us-east-1.localhost:${server.port}`)
    .origin;
  let stopped = false;
  return {
    endpoint,
    server,
    queues: created,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
      releaseDns();
    },
  };
}

// fauxqs names its queues `http://sqs.<region>.localhost:PORT/…`. RFC 6761 reserves `*.localhost` for
// loopback, but Node's resolver does not know it on every system, so names ending in `.localhost`
// are resolved to 127.0.0.1 in this process while any local queues run.
let dnsUsers = 0;
let restoreDns: (() => void) | undefined;

function acquireLocalhostDns(): () => void {
  if (dnsUsers++ === 0) restoreDns = interceptLocalhostDns();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--dnsUsers === 0) {
      restoreDns?.();
      restoreDns = undefined;
    }
  };
}

/**
 * The characters SQS accepts in a message body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
 * #x10000 to #x10FFFF. With the `u` flag a surrogate pair is one character (accepted) and a lone
 * surrogate is a character of its own outside every range (refused, as SQS refuses it).
 */
const CHARACTER_SQS_REFUSES = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * fauxqs 1.9 checks message bodies with the same ranges written without the `u` flag, so it sees an
 * emoji as two lone surrogates and refuses it: any payload with an emoji failed locally with a 500.
 * Its check is one exported regular expression that SendMessage and SendMessageBatch both call
 * `test` on; that `test` is replaced in this process by SQS's rule. No fork, no postinstall: the
 * module is reached by its file, next to the package's entry point.
 */
async function acceptWhatSqsAccepts(): Promise<void> {
  const location = new URL('./sqs/sqsTypes.js', import.meta.resolve('fauxqs'));
  const types: { INVALID_MESSAGE_BODY_CHAR?: unknown } = await import(location.href);
  const check = types.INVALID_MESSAGE_BODY_CHAR;
  if (!(check instanceof RegExp)) {
    throw new Error(
      `fauxqs changed: ${location.pathname} no longer exports INVALID_MESSAGE_BODY_CHAR; ` +
        'see acceptWhatSqsAccepts in infra/local/queues.ts',
    );
  }
  Object.defineProperty(check, 'test', {
    value: (body: string) => CHARACTER_SQS_REFUSES.test(body),
    configurable: true,
  });
}
