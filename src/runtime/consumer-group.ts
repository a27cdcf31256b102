/** Kafka event source mappings' ConsumerGroupId: 1–200 characters (CloudFormation reference). */
export const MAX_CONSUMER_GROUP_ID_LENGTH = 200;

/**
 * The consumer group of one topic's mapping. Lambda requires `ConsumerGroupId` to be unique
 * among all Kafka event sources, so one id given for several topics becomes `<id>-<topic>`
 * per mapping (topic names only use characters a group id allows). Past 200 characters the
 * name is cut and ends with a hash of the whole, so it stays unique and stable.
 */
export function mappingConsumerGroupId(consumerGroupId: string, topic: string): string {
  const full = `${consumerGroupId}-${topic}`;
  if (full.length <= MAX_CONSUMER_GROUP_ID_LENGTH) return full;
  const hash = fnv1a(full, 0x811c9dc5) + fnv1a(full, 0x01000193);
  return `${full.slice(0, MAX_CONSUMER_GROUP_ID_LENGTH - hash.length - 1)}-${hash}`;
}

// 32-bit FNV-1a as 8 hex digits: a stable name, not a secret, so no crypto module to load.
function fnv1a(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
