import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import * as ts from 'typescript';
import { API_REPORT_FILE, apiReport, EmittedDeclarations, emitDeclarations, importedPackages, packagesAHostHas } from '../scripts/api-report';

/**
 * A line diff (longest common subsequence) with two lines of context around each change:
 * `-` only in the committed report, `+` only in the current surface.
 */
function lineDiff(before: string[], after: string[]): string[] {
  const lcs = before.map(() => new Array<number>(after.length + 1).fill(0));
  lcs.push(new Array<number>(after.length + 1).fill(0));
  for (let i = before.length - 1; i >= 0; i--) {
    for (let j = after.length - 1; j >= 0; j--) lcs[i][j] = before[i] === after[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      ops.push(`  ${before[i]}`);
      [i, j] = [i + 1, j + 1];
    } else if (j < after.length && (i === before.length || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push(`+ ${after[j++]}`);
    else ops.push(`- ${before[i++]}`);
  }
  const near = (k: number) => ops.slice(Math.max(0, k - 2), k + 3).some((op) => !op.startsWith('  '));
  return ops.flatMap((op, k) => (near(k) ? [op] : k > 0 && near(k - 1) ? ['  ...'] : []));
}

describe('the public surface (API report over the emitted declarations)', () => {
  let emitted: EmittedDeclarations;
  beforeAll(() => {
    emitted = emitDeclarations();
  }, 240_000);

  it('is exactly what etc/nestjs-email-otp.api.md records; a change to it is a visible diff (npm run api:report)', () => {
    const committed = readFileSync(API_REPORT_FILE, 'utf8');
    const current = apiReport(emitted);
    if (current !== committed) {
      const diff = lineDiff(committed.split('\n'), current.split('\n'));
      throw new Error(`The public surface differs from ${relative(process.cwd(), API_REPORT_FILE)} (- committed, + now).\n`
        + `If the change is meant, run \`npm run api:report\` and commit the report with it.\n\n${diff.join('\n')}`);
    }
  });

  it('needs no package a host does not install with this one: no pino or pino-http types in the declarations', () => {
    const imported = importedPackages(emitted);
    expect(imported).toEqual(expect.arrayContaining(['@nestjs/common', 'typeorm']));
    expect(imported.filter((p) => /^pino/.test(p))).toEqual([]);
    const hostHas = packagesAHostHas();
    expect(imported.filter((p) => !hostHas.has(p))).toEqual([]);
  });

  it('exports OtpProof as the decorator only (the injected proof is typed RedeemedOtpProof)', () => {
    const checker = emitted.program.getTypeChecker();
    const entry = checker.getSymbolAtLocation(emitted.program.getSourceFile(emitted.entries['nestjs-email-otp'])!)!;
    const named = (name: string) => {
      const symbol = checker.getExportsOfModule(entry).find((s) => s.name === name)!;
      return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    };
    expect(named('OtpProof').flags & ts.SymbolFlags.Value).toBeTruthy();
    expect(named('OtpProof').flags & ts.SymbolFlags.Type).toBe(0);
    expect(named('RedeemedOtpProof').flags & ts.SymbolFlags.Class).toBeTruthy();
  });
});
