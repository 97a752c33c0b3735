// Holds an event source mapping's poller between batches, as a region cut off (or a mapping disabled) holds it.
// The two-region simulation (regions.ts) closes a region's gates to stop its processing without losing
// where its pollers were: a stream poller resumes from its checkpoint, an SQS poller with its queue.

export interface PollerGate {
  /** Waits while the gate is closed, then runs one batch; resolves undefined without running once disposed. */
  run<T>(batch: () => Promise<T>): Promise<T | undefined>;
  /** Waits while the gate is closed (before long-polling for a batch); resolves at once once disposed. */
  opened(): Promise<void>;
}

export interface ControlledGate extends PollerGate {
  readonly closed: boolean;
  /** No batch starts from now on; resolves once the batches running have finished. */
  close(): Promise<void>;
  open(): void;
  /** Lets every waiter through without running anything (the poller is stopping). */
  dispose(): void;
}

export function createPollerGate(): ControlledGate {
  let closed = false;
  let disposed = false;
  let running = 0;
  let reopen: { promise: Promise<void>; resolve: () => void } | undefined;
  const drained: Array<() => void> = [];

  const waitOpen = async (): Promise<void> => {
    while (closed && !disposed) {
      reopen ??= deferred();
      await reopen.promise;
    }
  };

  return {
    get closed() {
      return closed;
    },
    opened: waitOpen,
    async run(batch) {
      await waitOpen();
      if (disposed) return undefined;
      running += 1;
      try {
        return await batch();
      } finally {
        running -= 1;
        if (running === 0) for (const resolve of drained.splice(0)) resolve();
      }
    },
    close() {
      closed = true;
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => drained.push(resolve));
    },
    open() {
      closed = false;
      reopen?.resolve();
      reopen = undefined;
    },
    dispose() {
      disposed = true;
      reopen?.resolve();
      reopen = undefined;
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
