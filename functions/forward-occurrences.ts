// Placeholder until the forwarder lands (several regions); declared in the wiring for edge regions only.
import { queueUrls, tableNames } from '#shared/config';

export const handler = async (): Promise<never> => {
  const names = { tables: tableNames(['projects']), queues: queueUrls(['ingest']) };
  throw new Error(`the forwarder is not built yet (${Object.keys(names).join(', ')})`);
};
