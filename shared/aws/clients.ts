// AWS SDK clients, built once per container. Endpoints come from the SDK's own service-specific
// variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS), which the local stack sets. Each is
// captured by the tracer: in Lambda every call is a subsegment of the sampled traces; elsewhere the
// tracer is off and the client is left as it is.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '#shared/observability';

export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(tracer.captureAWSv3Client(client), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

export function createSqsClient(): SQSClient {
  return tracer.captureAWSv3Client(new SQSClient({}));
}
