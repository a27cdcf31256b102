// What a sandbox knows of the breakers it opened: the consumer's side of the outage breaker that
// stays in the handler's bundle (small); the Lambda calls that open a breaker are in
// breaker-trip.ts, loaded only when an invocation sees an outage.
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../contract/errors.js';
import type { DecodedEvent } from './event.js';
import type { OutcomeLedger } from './outcome-ledger.js';
import type { OutageDetector } from './outage.js';
import { sleep } from './retry.js';

/**
 * How long a mapping may go on invoking after it is disabled: "up to 90 seconds to stop and restart
 * polling" (https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html). A sandbox
 * holds batches no longer than that after opening a breaker: a batch after it means the mapping
 * was enabled again (by the resumer, or a person's force close) and is run.
 */
const DISABLE_LAG_MS = 90_000;

/** A mapping's identity as an event shows it: its source (MSK cluster ARN, or bootstrap servers) and topic. */
const mappingKey = (event: DecodedEvent, topic: string) => `${event.eventSourceArn ?? event.bootstrapServers ?? ''} ${topic}`;

/**
 * The breakers this sandbox opened (or found open), by source and topic, and until when its
 * batches are held (the cool-down's end, at most DISABLE_LAG_MS). A mapping still polls for a
 * while after it is disabled; its batches in that time are held and redelivered unrun, so that
 * the downstream is not hit and the mapping does not spin through its retries.
 */
export class SandboxBreakers {
  readonly #openUntil = new Map<string, number>();

  /** Until when this sandbox holds the event's batches (a breaker it opened for one of its topics); undefined: run them. */
  pausedUntil(event: DecodedEvent, now: number): number | undefined {
    let until: number | undefined;
    for (const p of event.partitions) {
      const key = mappingKey(event, p.topic);
      const ends = this.#openUntil.get(key);
      if (ends === undefined) continue;
      if (ends <= now) this.#openUntil.delete(key);
      else until = Math.max(until ?? 0, ends);
    }
    return until;
  }

  /** A batch from a mapping whose breaker is open: no record runs; it waits until `until`, then redelivers it all. */
  async hold(ledger: OutcomeLedger, until: number, logger: Logger): Promise<void> {
    logger.warn('breaker open: holding this batch unrun and redelivering it (the mapping is being paused)', {
      until: new Date(until).toISOString(),
    });
    await sleep(until - Date.now());
    for (const p of ledger.event.partitions) if (p.entries[0]) ledger.redeliverFrom(p.id, p.entries[0].offset);
  }

  /** Opens the breaker of the mappings the event came from (loaded only now); counts per topic, never throws. */
  async open(ledger: OutcomeLedger, context: Context, outage: OutageDetector, deadline: number, logger: Logger): Promise<void> {
    const { event } = ledger;
    try {
      const { openBreaker } = await import('./breaker-trip.js');
      const outcomes = await openBreaker({
        event,
        functionName: context.functionName,
        settings: outage.settings.breaker,
        reason: outage.reason!,
        logger,
        deadline,
        now: Date.now(),
        random: Math.random,
      });
      for (const o of outcomes) {
        const stats = ledger.topicStats(o.topic);
        stats.breakerOpened = o.opened ? 1 : 0;
        stats.breakerOpenFailed = o.failed ? 1 : 0;
        if (o.until !== undefined) this.#openUntil.set(mappingKey(event, o.topic), Math.min(o.until, Date.now() + DISABLE_LAG_MS));
      }
    } catch (error) {
      logger.error('breaker: could not be loaded; the records are redelivered, not paused', { errorType: describeError(error).type });
      for (const stats of ledger.stats.values()) stats.breakerOpenFailed = 1;
    }
  }
}
