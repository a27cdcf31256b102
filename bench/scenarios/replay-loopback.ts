// Scenario 4, second row: the replay on loopback, where both contenders are CPU-bound (see bench/replay-scenario.ts).
import { replayScenario } from '../replay-scenario.js';
import { runScenario } from '../measure.js';

runScenario(async () => [await replayScenario('replay-loopback', { deadLetters: 5_000, sqsRttMs: 0, kafkaRttMs: 0 })]);
