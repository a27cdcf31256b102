// The event `local invoke` sends: a file holding a whole event, or one record from flags,
// encoded as the mapping encodes records (the emulator's own encoder); and a record's value.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { LocalAction, RecordContents } from '../../src/cli/local-command-line.js';
import { buildKafkaEvent } from '../esm/lambda-event.js';

type EventSpec = Extract<LocalAction, { name: 'invoke' }>['event'];

async function read(file: string, cwd: string, what: string): Promise<Buffer> {
  const resolved = path.resolve(cwd, file);
  try {
    return await readFile(resolved);
  } catch (error) {
    throw new CliError(`${what}: cannot read ${resolved}: ${(error as Error).message}`, EXIT.usage);
  }
}

export async function eventOf(spec: EventSpec, cwd: string): Promise<unknown> {
  if ('file' in spec) {
    const text = (await read(spec.file, cwd, '--event')).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new CliError(`--event: ${path.resolve(cwd, spec.file)} is not JSON: ${(error as Error).message}`, EXIT.usage);
    }
  }
  const { record } = spec;
  return buildKafkaEvent([
    {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key ?? null,
      value: await valueOf(record, cwd),
      headers: record.headers,
    },
  ]);
}

/** The record's value: the JSON text as given, or the bytes of the file named. */
export async function valueOf(record: RecordContents, cwd: string): Promise<string | Buffer> {
  return 'text' in record.value ? record.value.text : read(record.value.file, cwd, '--value-file');
}
