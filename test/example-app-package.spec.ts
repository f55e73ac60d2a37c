import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';

const exec = promisify(execFile);
const repo = resolve(__dirname, '..');
const otpDir = join(repo, 'src/otp');

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));

/** Every module specifier of a file: import and export declarations, `require(...)`, `import(...)` and `import('...')` types. */
function specifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) found.push(node.moduleReference.expression.text);
    if (ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) found.push(node.arguments[0].text);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) found.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('the example app uses the OTP module through its package name only', () => {
  it('no file in src/app imports a relative path into src/otp (import, export, require, import())', () => {
    const files = sources(join(repo, 'src/app'));
    expect(files.length).toBeGreaterThan(20);
    const intoOtp = files.flatMap((file) => specifiers(file)
      .filter((spec) => spec.startsWith('.') && !relative(otpDir, resolve(dirname(file), spec)).startsWith('..'))
      .map((spec) => `${relative(repo, file)}: ${spec}`));
    expect(intoOtp).toEqual([]);
    const byName = files.flatMap((file) => specifiers(file).filter((spec) => spec.startsWith('nestjs-email-otp')));
    expect(byName.length).toBeGreaterThan(10);
  });

  it('under jest, nestjs-email-otp is src/otp itself: one OtpModule and one OtpError, the ones AppModule registers', async () => {
    const byName = await import('nestjs-email-otp');
    const testing = await import('nestjs-email-otp/testing');
    const src = await import('../src/otp');
    expect(byName.OtpModule).toBe(src.OtpModule);
    expect(byName.OtpError).toBe(src.OtpError);
    expect(testing.OtpTestMailer).toBe((await import('../src/otp/testing')).OtpTestMailer);
    const { AppModule } = await import('../src/app/app.module');
    const modules = (AppModule.forEnv({}).imports ?? []).map((m) => (m as { module?: unknown }).module);
    expect(modules).toContain(src.OtpModule);
  });

  it('compiled (tsconfig.build.json, as npm start builds it), the app resolves nestjs-email-otp to the same compiled src/otp', async () => {
    const work = mkdtempSync(join(tmpdir(), 'otp-app-build-'));
    try {
      // The layout of the repo: its package.json (name, exports) above dist/, its node_modules beside it.
      copyFileSync(join(repo, 'package.json'), join(work, 'package.json'));
      symlinkSync(join(repo, 'node_modules'), join(work, 'node_modules'), 'dir');
      const tsc = [require.resolve('typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(work, 'dist'), '--declaration', 'false', '--sourceMap', 'false'];
      await exec(process.execPath, tsc, { cwd: repo, maxBuffer: 16 << 20 }).catch((err: { stdout?: string }) => {
        throw new Error(`tsc -p tsconfig.build.json failed:\n${err.stdout ?? String(err)}`);
      });
      const probe = `require('reflect-metadata');
        const otp = require('./dist/src/otp/index.js');
        const { AppModule } = require('./dist/src/app/app.module.js');
        const { OtpTestMailer } = require('./dist/src/otp/testing/index.js');
        console.log(JSON.stringify({
          byName: require('nestjs-email-otp') === otp,
          testing: require('nestjs-email-otp/testing').OtpTestMailer === OtpTestMailer,
          registered: AppModule.forEnv({}).imports.some((m) => m && m.module === otp.OtpModule),
          loaded: Object.keys(require.cache).filter((f) => f.endsWith('/otp.module.js')).map((f) => require('node:path').relative(process.cwd(), f)),
        }));`;
      const { stdout } = await exec(process.execPath, ['-e', probe], { cwd: work, env: { ...process.env, NODE_ENV: 'test' } });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ byName: true, testing: true, registered: true, loaded: ['dist/src/otp/otp.module.js'] });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
