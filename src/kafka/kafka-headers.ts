import type { KafkaMessage } from 'kafkajs';

// Kafka headers are an ordered list in which a name may repeat; kafkajs's `headers` is an
// object keyed by name, which groups `a, b, a` into `a, a, b`. Patches 001 and 002 in patches/
// (applied by `npm install`'s prepare script, patch-package) keep the list as the record batch
// holds it, on consumed messages, and write one given in order when producing; createKafka
// checks that they are applied (kafkajs-patches.ts).

/** One record header as kafkajs reads and writes it. */
export interface KafkajsHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

declare module 'kafkajs' {
  interface RecordBatchEntry {
    /** The record's headers in order, duplicates kept (patched kafkajs). */
    orderedHeaders: KafkajsHeader[];
  }
  interface Message {
    /** Headers to write, in this order (patched kafkajs); `headers` is then ignored. */
    orderedHeaders?: KafkajsHeader[];
  }
}

/** A consumed message's headers in record order; an old-format (v0/v1) message has none. */
export function headersInOrder(message: KafkaMessage): KafkajsHeader[] {
  if (message.size !== undefined) return [];
  return message.orderedHeaders;
}
