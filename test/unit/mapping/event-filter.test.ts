// Lambda's event filtering on Kafka records. The patterns and records are the examples of the
// Lambda guide: "Control which events Lambda sends to your function", section Filter rule syntax
// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filtering-syntax),
// and "Filtering events from Amazon MSK and self-managed Apache Kafka event sources"
// (https://docs.aws.amazon.com/lambda/latest/dg/kafka-filtering.html).
import { describe, expect, it } from 'vitest';
import { compileFilters, recordPassesFilters } from '../../../src/mapping/event-filter.js';
import { FilterPatternError } from '../../../src/mapping/errors.js';

/** The filter rule under `value`, as a Kafka mapping takes it. */
const onValue = (rules: object) => [{ pattern: JSON.stringify({ value: rules }) }];
const passes = (filters: Array<{ pattern: string }>, value: unknown) =>
  recordPassesFilters(compileFilters(filters), {
    value: value === undefined ? null : typeof value === 'string' ? value : Buffer.from(JSON.stringify(value)),
  });

describe('Lambda event filtering on a Kafka record value', () => {
  it("matches the Kafka guide's example: device_ID begins with AB", () => {
    const filters = onValue({ device_ID: [{ prefix: 'AB' }] });
    const record = { device_ID: 'AB1234', session: { start_time: 'yyyy-mm-ddThh:mm:ss', duration: 162 } };
    expect(passes(filters, record)).toBe(true);
    expect(passes(filters, { ...record, device_ID: 'CD1234' })).toBe(false);
  });

  it("matches nested keys (the Kafka guide's record has session.duration)", () => {
    const filters = onValue({ session: { duration: [{ numeric: ['>', 100] }] } });
    expect(passes(filters, { session: { duration: 162 } })).toBe(true);
    expect(passes(filters, { session: { duration: 50 } })).toBe(false);
    expect(passes(filters, { session: 'not an object' })).toBe(false);
  });

  // Each row of the guide's "Filter rule syntax" table: its pattern, a record that matches, one that does not.
  it.each([
    ['Null', { UserID: [null] }, { UserID: null }, { UserID: 'u1' }],
    ['Empty', { LastName: [''] }, { LastName: '' }, { LastName: 'Smith' }],
    ['Equals', { Name: ['Alice'] }, { Name: 'Alice' }, { Name: 'alice' }],
    ['Equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, { Name: 'Bob' }],
    ['And', { Location: ['New York'], Day: ['Monday'] }, { Location: 'New York', Day: 'Monday' }, { Location: 'New York', Day: 'Tuesday' }],
    ['Or', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, { PaymentType: 'Cash' }],
    [
      'Or (multiple fields)',
      { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      { Location: 'Boston', Day: 'Monday' },
      { Location: 'Boston', Day: 'Tuesday' },
    ],
    ['Not', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, { Weather: 'Raining' }],
    ['Numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, { Price: 101 }],
    ['Numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 20 }, { Price: 10 }],
    ['Exists', { ProductName: [{ exists: true }] }, { ProductName: 'Widget' }, { Other: 1 }],
    ['Does not exist', { ProductName: [{ exists: false }] }, { Other: 1 }, { ProductName: 'Widget' }],
    ['Begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-east-1' }, { Region: 'eu-west-1' }],
    ['Ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'photo.png' }, { FileName: 'photo.jpg' }],
  ])('%s', (_name, rules, matching, other) => {
    expect(passes(onValue(rules), matching)).toBe(true);
    expect(passes(onValue(rules), other)).toBe(false);
  });

  it('compares types exactly: the string "100" is not the number 100', () => {
    expect(passes(onValue({ Price: [100] }), { Price: '100' })).toBe(false);
    expect(passes(onValue({ Price: [{ numeric: ['=', 100] }] }), { Price: '100' })).toBe(false);
  });

  it('matches a list in the record when any element matches', () => {
    expect(passes(onValue({ tags: ['urgent'] }), { tags: ['normal', 'urgent'] })).toBe(true);
  });

  it('ORs the filters: a record passes when any filter matches', () => {
    const filters = [...onValue({ kind: ['order'] }), ...onValue({ kind: ['refund'] })];
    expect(passes(filters, { kind: 'refund' })).toBe(true);
    expect(passes(filters, { kind: 'invoice' })).toBe(false);
  });

  it('passes every record when there are no filters', () => {
    expect(recordPassesFilters([], { value: 'anything' })).toBe(true);
  });

  // The Kafka guide: producers write values "either in valid JSON format or as plain strings".
  it('applies value rules to a plain-string value as a string; object patterns never match it', () => {
    expect(passes(onValue([{ prefix: 'Hello' }]), 'Hello, this is a test.')).toBe(true);
    expect(passes(onValue({ device_ID: [{ prefix: 'AB' }] }), 'AB1234 not json')).toBe(false);
  });

  it('sees a tombstone (null value) as a record without value: only exists false matches', () => {
    expect(passes(onValue({ kind: ['order'] }), undefined)).toBe(false);
    expect(passes([{ pattern: JSON.stringify({ value: [{ exists: false }] }) }], undefined)).toBe(true);
    expect(passes([{ pattern: JSON.stringify({ value: [{ exists: true }] }) }], undefined)).toBe(false);
  });

  it('refuses what Lambda refuses, naming the filter and the rule', () => {
    expect(() => compileFilters([{ pattern: JSON.stringify({ key: { id: ['1'] } }) }])).toThrow(/filters\[0\].*"value" only.*"key"/);
    expect(() => compileFilters([{ pattern: '{not json' }])).toThrow(FilterPatternError);
    expect(() => compileFilters(onValue({ a: [{ contains: 'x' }] }))).toThrow('unknown operator "contains"');
    expect(() => compileFilters(onValue({ a: [{ numeric: ['~', 1] }] }))).toThrow('"numeric" pair');
    expect(() => compileFilters(onValue({ a: [] }))).toThrow('must not be empty');
    expect(() => compileFilters(Array.from({ length: 11 }, () => onValue({ a: ['x'] })[0]!))).toThrow(
      'at most 5 (up to 10 with a Lambda quota increase)',
    );
    expect(() => compileFilters([{ pattern: JSON.stringify({ value: { a: ['x'.repeat(4_100)] } }) }])).toThrow('at most 4096');
  });
});
