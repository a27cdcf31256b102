// The floor as a deployable handler entry, for the scenarios that run bundles.
import { floorHandler } from './floor.js';

export const handler = floorHandler(() => undefined);
