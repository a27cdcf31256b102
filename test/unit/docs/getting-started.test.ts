// The getting-started app is copied as written: its files are complete (test/package synthesizes
// them), and the deploy line gives every context key the app reads.
import { describe, expect, it } from 'vitest';
import { docCommand, docFiles } from '../../support/doc-files.js';

const PAGE = 'docs/getting-started.md';
const files = docFiles(PAGE);

describe('the getting-started app', () => {
  it('is given whole: cdk.json, app.ts and the handler it bundles', () => {
    expect([...files.keys()].sort()).toEqual(['app.ts', 'cdk.json', 'handlers/payments.ts']);
    expect(JSON.parse(files.get('cdk.json')!)).toMatchObject({ app: 'npx tsx app.ts' });
    expect(files.get('app.ts')).toContain("new URL('./handlers/payments.ts', import.meta.url)");
  });

  it('has a deploy line with every context key the app reads, and a cdk.json with every required one', () => {
    const app = files.get('app.ts')!;
    const required = [...app.matchAll(/\b(?:context|list)\('(\w+)'\)/g)].map((m) => m[1]!);
    const optional = [...app.matchAll(/tryGetContext\('(\w+)'\)/g)].map((m) => m[1]!);
    expect(required).toEqual(expect.arrayContaining(['clusterArn', 'bootstrapServers', 'vpcId', 'subnetIds', 'securityGroupIds']));
    expect(optional).toEqual(['alarmTopicArn']);
    const deploy = docCommand(PAGE, 'npx cdk deploy');
    const given = [...deploy.matchAll(/-c (\w+)=/g)].map((m) => m[1]!);
    expect(new Set(given)).toEqual(new Set([...required, ...optional]));
    const context = (JSON.parse(files.get('cdk.json')!) as { context: Record<string, string> }).context;
    expect(Object.keys(context).sort()).toEqual([...new Set(required)].sort());
  });
});
