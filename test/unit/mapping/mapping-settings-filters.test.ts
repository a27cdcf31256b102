// Filters in the shared mapping settings: what the CDK app reads from context and what the local
// emulator receives (effectiveMappingSettings), validated alike.
import { describe, expect, it } from 'vitest';
import { effectiveMappingSettings } from '../../../src/mapping/mapping-settings.js';
import { mappingSettingsFromContext } from '../../../src/mapping/mapping-context.js';
import { compileFilters, recordPassesFilters } from '../../../src/mapping/event-filter.js';

const context = (values: Record<string, unknown>) => (key: string) => values[key];

describe('filters in the mapping settings', () => {
  it('reads a list of patterns from cdk.json (JSON) or -c (text), as lambda.FilterCriteria.filter() gives them', () => {
    const pattern = { value: { kind: ['order'] } };
    const fromJson = mappingSettingsFromContext(context({ topics: 'orders', filters: [pattern] }));
    const fromText = mappingSettingsFromContext(context({ topics: 'orders', filters: JSON.stringify([pattern]) }));
    expect(fromJson.filters).toEqual([{ pattern: '{"value":{"kind":["order"]}}' }]);
    expect(fromText.filters).toEqual(fromJson.filters);
    expect(mappingSettingsFromContext(context({ topics: 'orders' })).filters).toBeUndefined();
  });

  it('hands the emulator the filters it applies, checked like at synth', () => {
    const settings = effectiveMappingSettings(
      mappingSettingsFromContext(context({ topics: 'orders', filters: '[{"value":{"kind":["order"]}}]' })),
    );
    const filters = compileFilters(settings.filters ?? []);
    expect(recordPassesFilters(filters, { value: Buffer.from('{"kind":"order"}') })).toBe(true);
    expect(recordPassesFilters(filters, { value: Buffer.from('{"kind":"refund"}') })).toBe(false);
    expect(() => effectiveMappingSettings({ topics: ['orders'], filters: [{ pattern: '{"key":{"id":["1"]}}' }] })).toThrow('"value" only');
  });

  it('refuses context filters that are not a list of patterns, saying what to give', () => {
    expect(() => mappingSettingsFromContext(context({ topics: 'orders', filters: '{oops' }))).toThrow(
      'context filters is "{oops", which is not JSON',
    );
    expect(() => mappingSettingsFromContext(context({ topics: 'orders', filters: '["kind"]' }))).toThrow(
      'give a list of patterns (objects)',
    );
  });
});
