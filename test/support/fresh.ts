import { vi } from 'vitest';

/**
 * A module imported anew, its top-level code run again: what a module computes once (a
 * constant, a cached client) is then computed under the current conditions, a mutation
 * testing mutant included.
 */
export async function fresh<T>(path: string): Promise<T> {
  vi.resetModules();
  return (await import(/* @vite-ignore */ path)) as T;
}
