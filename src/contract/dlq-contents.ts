// What the replay function's dry run tells of the queue's contents, and the command-line tool
// shows (`dlq report`): the one shape both sides read, kept here so neither imports the other.

/** Dead letters counted by how long ago they were first enqueued. */
export interface AgeBuckets {
  underHour: number;
  underDay: number;
  underWeek: number;
  /** A week or more (SQS keeps messages up to 14 days). */
  older: number;
}

/** The dead letters a dry run received and could read (unreadable ones count as `failed`, in `errors`). */
export interface DlqContents {
  /** Topic → dead letters (a null-prototype object: the names are anyone's strings). */
  byTopic: Record<string, number>;
  /** Error type (the envelope's `error.type`) → dead letters; null-prototype as well. */
  byErrorType: Record<string, number>;
  byAge: AgeBuckets;
  /** The dead letter first enqueued (by `dlqFirstSentAt` when it was re-enqueued, else SQS's SentTimestamp). */
  oldest?: { enqueuedAt: string; topic: string; partition: number; offset: number; errorType: string };
}
