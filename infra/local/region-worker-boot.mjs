// Starts a simulated region's worker thread: TypeScript through tsx, then infra/local/region-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./region-worker.ts');
