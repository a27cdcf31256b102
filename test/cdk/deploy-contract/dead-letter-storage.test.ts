// Item 5 of issue 17: no pointer in the dead-letter queue outlives its S3 object.
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { synth } from './support.js';

describe('dead-letter storage lifetimes', () => {
  // Amazon S3 User Guide, "Lifecycle configuration elements" / "Expiring objects": S3 "calculates
  // the time by adding the number of days specified in the rule to the object creation time and
  // rounding the resulting time to the next day midnight UTC" — never earlier than the days given,
  // up to a day later. Amazon SQS Developer Guide, "MessageRetentionPeriod": messages are deleted
  // when the retention runs out. A pointer is sent after its object is written, so an object
  // expiry of at least the retention plus one day outlives every pointer.
  it('refuses an object expiry shorter than the queue retention plus a day, naming both props', () => {
    expect(() => synth({ deadLetterObjectExpiration: Duration.days(14) })).toThrow(
      'deadLetterObjectExpiration is 14 days; with deadLetterRetention of 1209600 s it must be at least 15 days (the retention plus a day)',
    );
    expect(() => synth({ deadLetterRetention: Duration.days(4), deadLetterObjectExpiration: Duration.days(3) })).toThrow(
      'it must be at least 5 days',
    );
    expect(() => synth({ deadLetterRetention: Duration.hours(30), deadLetterObjectExpiration: Duration.days(2) })).toThrow(
      'it must be at least 3 days',
    );
  });

  it('accepts the defaults (14 days, 30 days) and the retention plus a day', () => {
    expect(() => synth()).not.toThrow();
    synth({ deadLetterRetention: Duration.days(4), deadLetterObjectExpiration: Duration.days(5) }).hasResourceProperties(
      'AWS::S3::Bucket',
      { LifecycleConfiguration: { Rules: [{ ExpirationInDays: 5, Prefix: 'dead-letters/', Status: 'Enabled' }] } },
    );
  });
});
