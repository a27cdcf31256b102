import kafkajs from 'kafkajs';
import { KafkajsNotPatchedError } from './errors.js';

// Each patch in patches/ adds its name to kafkajs's `appliedPatches` (in kafkajs/index.js, the
// module every client loads, bundles included), so that one look at startup finds a kafkajs
// installed without them, instead of a record losing its header order much later.

/** The patches every kafkajs client of the project needs, in patches/ order (patches/README.md). */
export const KAFKAJS_PATCHES = [
  '001+consumed-headers-in-order',
  '002+produced-headers-in-order',
  '003+undecodable-batch-fails-consumer',
  '004+idle-request-queue-sets-no-timer',
  '005+stopped-consumer-starts-no-fetchers',
  '006+stopped-consumer-stays-stopped',
  '007+crashed-member-rejoins-as-itself',
] as const;

/** The names the installed kafkajs's patches left; none when it is not patched. */
export function appliedKafkajsPatches(): readonly unknown[] {
  const applied = (kafkajs as unknown as { appliedPatches?: unknown }).appliedPatches;
  return Array.isArray(applied) ? applied : [];
}

/**
 * Throws a {@link KafkajsNotPatchedError} naming each patch the installed kafkajs lacks. Cheap
 * (one property read, no file access): the Kafka client layer runs it for every client it creates.
 */
export function assertKafkajsPatched(applied: readonly unknown[] = appliedKafkajsPatches()): void {
  const missing = KAFKAJS_PATCHES.filter((patch) => !applied.includes(patch));
  if (missing.length > 0) throw new KafkajsNotPatchedError(missing);
}
