// The floor as a deployable handler entry, for the scenarios that run bundles.
import { floorHandler } from './floor';

export const handler = floorHandler(() => undefined);
