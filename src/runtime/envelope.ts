import { describeError, type ErrorDescription } from '../contract/errors.js';
import { MalformedDeadLetterError } from './errors.js';
import { REPLAY_COUNT_HEADER } from '../contract/index.js';
import { eventHeaderList, type KafkaRecord, type SchemaMetadata } from './record.js';

/**
 * The dead-letter format, version 1: one SQS message body per record that exhausted its
 * retries. Everything needed to put the record back on its topic byte for byte.
 */
export interface DeadLetterEnvelope {
  readonly version: 1;
  readonly kind: 'kafka-dead-letter';
  readonly record: {
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly timestamp: number;
    readonly timestampType: string;
    /** base64, or null */
    readonly key: string | null;
    /** base64, or null for a tombstone */
    readonly value: string | null;
    /** In order, duplicates kept; values base64. */
    readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
    /** As the event carried them, present only when it did (a mapping with a schema registry). */
    readonly keySchemaMetadata?: SchemaMetadata;
    readonly valueSchemaMetadata?: SchemaMetadata;
  };
  readonly error: ErrorDescription;
  readonly attempts: number;
  readonly firstFailureAt: string;
  readonly lastFailureAt: string;
  readonly source: {
    readonly functionName: string;
    readonly requestId: string;
    readonly eventSource: string;
    readonly eventSourceArn?: string;
    readonly bootstrapServers?: string;
    readonly consumerGroup?: string;
  };
  /** How many times this record has been replayed from the DLQ before. */
  readonly replayCount: number;
  /**
   * Present when its key is parked behind it (failureMode 'park-key'): the replay produces it, then
   * the key's parked records in order, and releases the key at this epoch. Absent in older envelopes.
   */
  readonly parked?: { readonly epoch: number };
  /**
   * Present when tracing is on (an OpenTelemetry SDK registered): the record's trace context (from its
   * headers) and its failure span's, each as the registered propagator writes it (W3C: `traceparent`,
   * `tracestate`). The replay links its copy to both. Absent in older envelopes.
   */
  readonly trace?: DeadLetterTrace;
}

/** A trace context as a propagator's carrier: field name to value, e.g. `{ traceparent: '00-…' }`. */
export type TraceCarrier = Readonly<Record<string, string>>;

/** The trace contexts a dead letter keeps (see {@link DeadLetterEnvelope.trace}). */
export interface DeadLetterTrace {
  /** The context the record carried in its headers, when it carried one. */
  readonly record?: TraceCarrier;
  /** The span of the record's processing that ended with it dead-lettered. */
  readonly failure?: TraceCarrier;
}

/** What goes to SQS instead of an envelope too large for it: the envelope itself is in S3. */
export interface DeadLetterPointer {
  readonly version: 1;
  readonly kind: 'kafka-dead-letter-pointer';
  readonly s3: { readonly bucket: string; readonly key: string };
  readonly record: { readonly topic: string; readonly partition: number; readonly offset: number };
  readonly error: { readonly type: string; readonly message: string };
  readonly replayCount: number;
}

export interface FailureContext {
  readonly error: unknown;
  readonly attempts: number;
  readonly firstFailureAt: number;
  readonly lastFailureAt: number;
  readonly source: DeadLetterEnvelope['source'];
  /** Its key is parked behind it, at this epoch. */
  readonly parked?: { readonly epoch: number };
  /** Its trace contexts, when tracing is on. */
  readonly trace?: DeadLetterTrace;
}

/** What the replay needs of a record to put it back on its topic: the record and how often it was replayed. */
export type ReplayableRecord = Pick<DeadLetterEnvelope, 'record' | 'replayCount'>;

/**
 * A record as the envelope holds it, as it arrived (its headers decoded afresh from the event,
 * whatever user code did to `record.headers`), with its replay count read from its own headers.
 */
export function replayableRecord(record: KafkaRecord<unknown, unknown>): ReplayableRecord {
  const headers = eventHeaderList(record);
  const replayed = Number(headers.find((h) => h.name === REPLAY_COUNT_HEADER)?.value.toString('utf8'));
  return {
    record: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      timestampType: record.timestampType,
      key: record.encodedKey,
      value: record.encodedValue,
      headers: headers.map((h) => ({ name: h.name, value: h.value.toString('base64') })),
      ...(record.keySchemaMetadata ? { keySchemaMetadata: record.keySchemaMetadata } : {}),
      ...(record.valueSchemaMetadata ? { valueSchemaMetadata: record.valueSchemaMetadata } : {}),
    },
    replayCount: Number.isInteger(replayed) && replayed > 0 ? replayed : 0,
  };
}

export function buildEnvelope(record: KafkaRecord<unknown, unknown>, failure: FailureContext): DeadLetterEnvelope {
  const { record: fields, replayCount } = replayableRecord(record);
  return {
    version: 1,
    kind: 'kafka-dead-letter',
    record: fields,
    error: describeError(failure.error),
    attempts: failure.attempts,
    firstFailureAt: new Date(failure.firstFailureAt).toISOString(),
    lastFailureAt: new Date(failure.lastFailureAt).toISOString(),
    source: failure.source,
    replayCount,
    ...(failure.parked ? { parked: { epoch: failure.parked.epoch } } : {}),
    ...(failure.trace ? { trace: failure.trace } : {}),
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNullableBase64 = (v: unknown) => v === null || (isString(v) && /^[A-Za-z0-9+/]*={0,2}$/.test(v));
/** A field of a body anyone with SendMessage wrote, as a reason may show it: short, never a whole value. */
const SHOWN_FIELD_LIMIT = 64;
function shown(v: unknown): string {
  if (isString(v)) return JSON.stringify(v.length > SHOWN_FIELD_LIMIT ? `${v.slice(0, SHOWN_FIELD_LIMIT)}…` : v);
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'a list' : 'an object';
}

/** Parses and checks an SQS body written by the dead-letter writer. */
export function parseDeadLetter(body: string): DeadLetterEnvelope | DeadLetterPointer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new MalformedDeadLetterError('the body is not JSON');
  }
  const m = parsed as Record<string, unknown>;
  if (typeof m !== 'object' || m === null) throw new MalformedDeadLetterError('the body is not a JSON object');
  if (m.version !== 1)
    throw new MalformedDeadLetterError(`unsupported envelope version ${shown(m.version)} (this code reads version 1)`, {
      fields: ['version'],
    });
  const r = m.record as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null || !isString(r.topic) || !Number.isInteger(r.partition) || !Number.isInteger(r.offset)) {
    throw new MalformedDeadLetterError('"record" must hold topic, partition and offset', { fields: ['record'] });
  }
  if (m.kind === 'kafka-dead-letter-pointer') {
    const s3 = m.s3 as Record<string, unknown> | undefined;
    if (!s3 || !isString(s3.bucket) || !isString(s3.key))
      throw new MalformedDeadLetterError('"s3" must hold bucket and key', { fields: ['s3'] });
    return m as unknown as DeadLetterPointer;
  }
  if (m.kind !== 'kafka-dead-letter') throw new MalformedDeadLetterError(`unknown kind ${shown(m.kind)}`, { fields: ['kind'] });
  if (!isNullableBase64(r.key) || !isNullableBase64(r.value))
    throw new MalformedDeadLetterError('record.key and record.value must be base64 or null', { fields: ['record.key', 'record.value'] });
  if (typeof r.timestamp !== 'number')
    throw new MalformedDeadLetterError('record.timestamp must be a number', { fields: ['record.timestamp'] });
  const headers = r.headers;
  if (
    !Array.isArray(headers) ||
    !headers.every((h: { name?: unknown; value?: unknown }) => isString(h?.name) && isNullableBase64(h.value))
  ) {
    throw new MalformedDeadLetterError('record.headers must be a list of {name, value: base64}', { fields: ['record.headers'] });
  }
  if (!Number.isInteger(m.replayCount) || (m.replayCount as number) < 0)
    throw new MalformedDeadLetterError('replayCount must be a whole number ≥ 0', { fields: ['replayCount'] });
  const parked = m.parked as { epoch?: unknown } | undefined;
  if (
    parked !== undefined &&
    (typeof parked !== 'object' || parked === null || !Number.isSafeInteger(parked.epoch) || (parked.epoch as number) < 0)
  )
    throw new MalformedDeadLetterError('parked, when present, must be {"epoch": a whole number ≥ 0}', { fields: ['parked'] });
  // Trace contexts only link spans: a malformed one is dropped, never a reason to keep the record from its topic.
  if (m.trace !== undefined && !isDeadLetterTrace(m.trace)) delete m.trace;
  return m as unknown as DeadLetterEnvelope;
}

/** Bounds on a carrier anyone with SendMessage wrote: W3C's tracestate is at most 512 characters, baggage 8,192. */
export const TRACE_CARRIER_FIELDS = 8;
export const TRACE_FIELD_LENGTH = 8192;
function isTraceCarrier(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length <= TRACE_CARRIER_FIELDS && entries.every(([, value]) => isString(value) && value.length <= TRACE_FIELD_LENGTH);
}
function isDeadLetterTrace(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  return (t.record === undefined || isTraceCarrier(t.record)) && (t.failure === undefined || isTraceCarrier(t.failure));
}
