// One Powertools logger and metrics instance per container, shared by handlers and services.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline' });

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Faultline',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline',
});
