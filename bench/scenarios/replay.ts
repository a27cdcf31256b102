// Scenario 4: the replay at the round trips a Lambda function meets (see bench/replay-scenario.ts).
import { KAFKA_RTT_MS, SQS_RTT_MS, replayScenario } from '../replay-scenario.js';
import { runScenario } from '../measure.js';

// Fewer than on loopback: the naive loop pays two SQS round trips and a produce per message.
runScenario(async () => [await replayScenario('replay', { deadLetters: 2_000, sqsRttMs: SQS_RTT_MS, kafkaRttMs: KAFKA_RTT_MS })]);
