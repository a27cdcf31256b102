// The example consumer written the usual way: Powertools Logger and Metrics through their
// middy middlewares, and the SQS client built at module load for the dead letters.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { KafkaEvent } from '../../src/runtime/event.js';

const logger = new Logger({ serviceName: 'kafka-consumer' });
const metrics = new Metrics({ namespace: 'KafkaConsumer', serviceName: 'kafka-consumer' });
const sqs = new SQSClient({});

export const handler = middy(async (event: KafkaEvent) => {
  let processed = 0;
  for (const records of Object.values(event.records)) {
    for (const record of records) {
      try {
        const order = JSON.parse(Buffer.from(record.value as string, 'base64').toString()) as { simulate?: string } | null;
        if (order?.simulate === 'permanent-failure') throw new Error('order cannot be processed');
        processed++;
      } catch (error) {
        logger.warn('dead-lettering a record', {
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          error: (error as Error).message,
        });
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: process.env.DLQ_URL,
            MessageBody: JSON.stringify({ record, error: (error as Error).message }),
          }),
        );
      }
    }
  }
  metrics.addMetric('RecordsProcessed', MetricUnit.Count, processed);
  return { batchItemFailures: [] };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
