// A park-key consumer and the replay's release over in-memory stand-ins: the parked-key table
// (FakeParkedKeyStore), the bucket (the dead-letter transport's objects) and one topic-partition's
// log, for the release's unit tests and the ordering property.
import type { Message as KafkaMessage } from 'kafkajs';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { parseDeadLetter } from '../../src/runtime/envelope.js';
import { offsetOfParkedObject } from '../../src/runtime/parking/parked-key-names.js';
import type { ParkedObject, ParkedObjects } from '../../src/replay/parked-objects.js';

/** The bucket as a map of object names to bodies; listing in UTF-8 binary order, as S3 does. */
export class FakeBucket implements ParkedObjects {
  readonly objects = new Map<string, string>();

  async list(folder: string): Promise<ParkedObject[]> {
    return [...this.objects.keys()]
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .flatMap((key) => {
        const offset = offsetOfParkedObject(folder, key);
        return offset === undefined ? [] : [{ key, offset }];
      });
  }

  async read(key: string): Promise<DeadLetterEnvelope> {
    return parseDeadLetter(this.objects.get(key)!) as DeadLetterEnvelope;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }
}

/** A header of a produced message, as text. */
export function headerOf(message: KafkaMessage, name: string): string | undefined {
  const value = (message.headers as Record<string, Buffer[]> | undefined)?.[name]?.[0];
  return value?.toString('utf8');
}
