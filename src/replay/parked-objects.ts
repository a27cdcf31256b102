// The parked records of a key (failureMode 'park-key') in the dead-letter bucket, as the replay
// reads and deletes them: listed in offset order (S3 lists keys in UTF-8 binary order and the
// offsets are zero-padded: docs/aws-contracts.md), each an envelope the consumer's writer wrote.
import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { loadS3 } from '../runtime/aws-clients.js';
import { parseDeadLetter, type DeadLetterEnvelope } from '../runtime/envelope.js';
import { MalformedDeadLetterError } from '../runtime/errors.js';
import { offsetOfParkedObject } from '../runtime/parking/parked-key-names.js';
import { callWithRetries, transientAwsRetry } from '../runtime/retry.js';

/** One parked record's object. */
export interface ParkedObject {
  readonly key: string;
  readonly offset: number;
}

/** The calls the release makes on the bucket. */
export interface ParkedObjects {
  /** The objects of a key's folder, in offset order. */
  list(folder: string, deadline: number): Promise<ParkedObject[]>;
  /** A parked record's envelope. */
  read(key: string, deadline: number): Promise<DeadLetterEnvelope>;
  delete(keys: readonly string[], deadline: number): Promise<void>;
}

const retry = transientAwsRetry(5);

export class S3ParkedObjects implements ParkedObjects {
  constructor(readonly bucket: string) {}

  async list(folder: string, deadline: number): Promise<ParkedObject[]> {
    const { sdk, client } = await loadS3();
    const objects: ParkedObject[] = [];
    let token: string | undefined;
    do {
      const command = new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, ...(token ? { ContinuationToken: token } : {}) });
      const page: ListObjectsV2CommandOutput = await callWithRetries(() => client.send(command), retry, deadline);
      for (const { Key } of page.Contents ?? []) {
        const offset = Key === undefined ? undefined : offsetOfParkedObject(folder, Key);
        if (offset !== undefined) objects.push({ key: Key!, offset });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  async read(key: string, deadline: number): Promise<DeadLetterEnvelope> {
    const { sdk, client } = await loadS3();
    const body = await callWithRetries(
      async () => (await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body!.transformToString(),
      retry,
      deadline,
    );
    const parsed = parseDeadLetter(body);
    if (parsed.kind !== 'kafka-dead-letter')
      throw new MalformedDeadLetterError(`s3://${this.bucket}/${key} holds a pointer, not a parked record`);
    return parsed;
  }

  async delete(keys: readonly string[], deadline: number): Promise<void> {
    const { sdk, client } = await loadS3();
    await Promise.all(
      keys.map((key) =>
        callWithRetries(() => client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key })), retry, deadline),
      ),
    );
  }
}
