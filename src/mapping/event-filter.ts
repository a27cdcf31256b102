// Lambda's event filtering, as a Kafka event source mapping applies it to each record: the
// filter rule syntax of the Lambda guide ("Control which events Lambda sends to your
// function", Filter rule syntax) matched against the record's `value`. Pure: the CDK
// construct uses it to check patterns at synth, the local emulator to decide which records
// reach the function. No kept npm library implements the rule language (searched: event
// pattern matchers on npm are EventBridge plugins or unmaintained), so this stays small.

import { FilterPatternError } from './errors.js';

/** One filter, as `lambda.FilterCriteria.filter()` returns it (CloudFormation `FilterCriteria.Filters[].Pattern`). */
// A type, not an interface: it must fit aws-cdk-lib's `filters` type (objects with an index signature).
export type RecordFilter = {
  /** The pattern, JSON text. */
  readonly pattern: string;
};

/** The part of a Kafka record a filter reads: Kafka mappings filter on `value` only. */
export interface FilterableRecord {
  /** The record's value as the broker holds it; null or missing for a tombstone. */
  readonly value?: Buffer | string | null;
}

/**
 * Lambda's limits (Lambda guide, event filtering): five filters per mapping by default, up to
 * ten with a quota increase; CloudFormation's `Filter.Pattern` holds at most 4,096 characters.
 */
const MAX_FILTERS = 10;
const DEFAULT_FILTER_QUOTA = 5;
const MAX_PATTERN_LENGTH = 4_096;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rule = (value: Json | undefined, present: boolean) => boolean;
type PatternNode = { kind: 'leaf'; rules: Rule[] } | { kind: 'object'; fields: Array<[string, PatternNode]>; or: PatternNode[][] };

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, why: string): never {
  throw new FilterPatternError(
    `filter pattern at ${where}: ${why}. See the Lambda guide's filter rule syntax (equals, prefix, suffix, anything-but, numeric, exists, equals-ignore-case, $or).`,
  );
}

/** One element of a rule list: a literal (equals, null, empty string) or an operator object. */
function parseRule(rule: unknown, where: string): Rule {
  if (rule === null || typeof rule === 'string' || typeof rule === 'number' || typeof rule === 'boolean') {
    return (v, present) => present && v === rule;
  }
  if (!isObject(rule) || Object.keys(rule).length !== 1) fail(where, `${JSON.stringify(rule)} is neither a value nor one operator`);
  const [op, arg] = Object.entries(rule)[0]!;
  const str = (f: (v: string, a: string) => boolean): Rule => {
    if (typeof arg !== 'string') fail(where, `"${op}" takes a string, not ${JSON.stringify(arg)}`);
    return (v, present) => present && typeof v === 'string' && f(v, arg);
  };
  switch (op) {
    case 'prefix':
      return str((v, a) => v.startsWith(a));
    case 'suffix':
      return str((v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return str((v, a) => v.toLowerCase() === a.toLowerCase());
    case 'exists':
      if (typeof arg !== 'boolean') fail(where, `"exists" takes true or false, not ${JSON.stringify(arg)}`);
      return (_v, present) => present === arg;
    case 'anything-but': {
      const values = Array.isArray(arg) ? arg : [arg];
      if (values.some((x) => typeof x !== 'string' && typeof x !== 'number'))
        fail(where, `"anything-but" takes strings or numbers, not ${JSON.stringify(arg)}`);
      return (v, present) => present && v !== null && !isObject(v) && !values.includes(v as string | number);
    }
    case 'numeric': {
      if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0)
        fail(where, `"numeric" takes operator/number pairs, not ${JSON.stringify(arg)}`);
      const checks: Array<(n: number) => boolean> = [];
      for (let i = 0; i < arg.length; i += 2) {
        const cmp = NUMERIC_OPS[String(arg[i])];
        const bound = arg[i + 1];
        if (!cmp || typeof bound !== 'number')
          fail(where, `"numeric" pair ${JSON.stringify([arg[i], bound])} must be one of = < <= > >= and a number`);
        checks.push((n) => cmp(n, bound));
      }
      return (v, present) => present && typeof v === 'number' && checks.every((c) => c(v));
    }
    default:
      return fail(where, `unknown operator "${op}"`);
  }
}

function parseNode(pattern: unknown, where: string): PatternNode {
  if (Array.isArray(pattern)) {
    if (pattern.length === 0) fail(where, 'a rule list must not be empty');
    return { kind: 'leaf', rules: pattern.map((r, i) => parseRule(r, `${where}[${i}]`)) };
  }
  if (!isObject(pattern)) fail(where, `${JSON.stringify(pattern)} must be a rule list ([...]) or an object of fields`);
  const fields: Array<[string, PatternNode]> = [];
  const or: PatternNode[][] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) fail(`${where}.$or`, '"$or" takes a list of at least two patterns');
      or.push(sub.map((alt, i) => parseNode(alt, `${where}.$or[${i}]`)));
    } else {
      fields.push([key, parseNode(sub, `${where}.${key}`)]);
    }
  }
  return { kind: 'object', fields, or };
}

function matchNode(node: PatternNode, value: Json | undefined, present: boolean): boolean {
  if (node.kind === 'leaf') {
    // A list in the event matches when any of its elements does (EventBridge pattern semantics).
    const candidates = present && Array.isArray(value) ? value : [value];
    return candidates.some((v) => node.rules.some((rule) => rule(v, present)));
  }
  const obj = present && isObject(value) ? value : undefined;
  const field = (key: string) => (obj && Object.hasOwn(obj, key) ? { v: obj[key], p: true } : { v: undefined, p: false });
  return (
    node.fields.every(([key, sub]) => {
      const f = field(key);
      return matchNode(sub, f.v, f.p);
    }) && node.or.every((alternatives) => alternatives.some((alt) => matchNode(alt, value, present)))
  );
}

/** A parsed filter pattern: parse once, match many records. */
export class CompiledFilter {
  readonly #root: PatternNode;

  /** @throws {FilterPatternError} when the pattern is not valid JSON, names a key other than `value`, or uses an unknown rule */
  constructor(
    readonly pattern: string,
    where = 'filters',
  ) {
    if (pattern.length > MAX_PATTERN_LENGTH)
      fail(where, `the pattern is ${pattern.length} characters; CloudFormation takes at most ${MAX_PATTERN_LENGTH}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(pattern);
    } catch {
      fail(where, `${pattern} is not JSON`);
    }
    if (!isObject(parsed)) fail(where, `${pattern} must be a JSON object`);
    // Lambda guide, "Filtering events from Amazon MSK and self-managed Apache Kafka event
    // sources": Kafka mappings only support filtering on the value key.
    const other = Object.keys(parsed).filter((k) => k !== 'value');
    if (other.length > 0)
      fail(
        where,
        `Kafka mappings filter on "value" only, and this pattern names ${other.map((k) => `"${k}"`).join(', ')}: put the rules under { "value": { ... } }`,
      );
    this.#root = parseNode(parsed, where);
  }

  /** Whether the record's value satisfies the pattern. */
  matches(record: FilterableRecord): boolean {
    const raw = record.value;
    if (raw === null || raw === undefined) return matchNode(this.#root, {}, true);
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    return matchNode(this.#root, { value: decodeValue(text) }, true);
  }
}

/**
 * The value as the filter sees it: the JSON it holds, or, when it is not JSON (a plain string,
 * the other format the Kafka filtering guide names), the string itself, so that `value` rules
 * written as string rules (prefix, equals, …) apply to it and object patterns never match it.
 */
function decodeValue(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/** Parses every filter, so that a bad one fails at synth (or at emulator start), naming its position. */
export function compileFilters(filters: readonly RecordFilter[]): CompiledFilter[] {
  if (filters.length > MAX_FILTERS) {
    throw new FilterPatternError(
      `filters has ${filters.length} filters; a mapping takes at most ${DEFAULT_FILTER_QUOTA} (up to ${MAX_FILTERS} with a Lambda quota increase).`,
    );
  }
  return filters.map((f, i) => {
    if (!f || typeof f.pattern !== 'string')
      throw new FilterPatternError(
        `filters[${i}] is ${JSON.stringify(f)}; build each filter with lambda.FilterCriteria.filter({ value: { ... } }).`,
      );
    return new CompiledFilter(f.pattern, `filters[${i}]`);
  });
}

/**
 * Whether Lambda would send this record to the function: true with no filters, else when any
 * filter matches (filters are ORed). Records that match none are committed without invoking.
 */
export function recordPassesFilters(filters: readonly CompiledFilter[], record: FilterableRecord): boolean {
  return filters.length === 0 || filters.some((f) => f.matches(record));
}
