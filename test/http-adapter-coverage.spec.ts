import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');

interface JestProject {
  displayName: string;
  roots: string[];
  testRegex: string;
  testPathIgnorePatterns?: string[];
}

const projects: JestProject[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).jest.projects;
const project = (name: string) => projects.find((p) => p.displayName === name)!;

/** Whether jest's project would run the file (its roots, `testRegex` and `testPathIgnorePatterns`, as jest applies them). */
function runs(p: JestProject, file: string): boolean {
  const expand = (s: string) => s.replace(/<rootDir>/g, ROOT);
  return p.roots.some((r) => file.startsWith(expand(r) + '/'))
    && new RegExp(p.testRegex).test(file)
    && !(p.testPathIgnorePatterns ?? []).some((pattern) => new RegExp(expand(pattern)).test(file));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = join(dir, name);
    return statSync(file).isDirectory() ? filesUnder(file) : [file];
  });
}

const suites = filesUnder(join(ROOT, 'test')).filter((f) => f.endsWith('.e2e-spec.ts'));

/** A suite serves HTTP when it sends requests to an app: supertest, the app's server or port, or the app in a child process. */
const SERVES_HTTP = /from 'supertest'|getHttpServer\(|listen: true|\.listen\(|new RawClient\(|startChild(<[^>]*>)?\('app-server'/;
const servesHttp = (file: string) => SERVES_HTTP.test(readFileSync(file, 'utf8'));

describe('every HTTP suite runs on both adapters in npm test', () => {
  it('the express and fastify projects exist', () => {
    expect(project('express')).toBeDefined();
    expect(project('fastify')).toBeDefined();
  });

  it('finds the suites that serve HTTP (the check below is not vacuous)', () => {
    const http = suites.filter(servesHttp).map((f) => relative(ROOT, f));
    expect(http).toEqual(expect.arrayContaining(['test/otp-http.e2e-spec.ts', 'test/hostile/leaks.e2e-spec.ts']));
    expect(http).not.toContain('test/migrations.e2e-spec.ts');
  });

  it('every suite that serves HTTP runs in both projects (a new one does by default: the fastify project lists only suites without HTTP)', () => {
    const missing = suites.filter((f) => servesHttp(f) && !(runs(project('express'), f) && runs(project('fastify'), f)));
    expect(missing.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('suites serve HTTP through bootTestApp or startTestHttpApp, which take the project\'s adapter (never an app of their own on Express)', () => {
    const own = suites.filter((f) => /createNestApplication\(|NestFactory\.create/.test(readFileSync(f, 'utf8')));
    expect(own.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('suites boot their apps through testApp() (one builder, one close()), never bootTestApp or startTestHttpApp directly', () => {
    const direct = suites.filter((f) => /\b(bootTestApp|startTestHttpApp)\(/.test(readFileSync(f, 'utf8')));
    expect(direct.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('every suite runs in the express project, and each entry the fastify project leaves out names an existing suite', () => {
    expect(suites.filter((f) => !runs(project('express'), f)).map((f) => relative(ROOT, f))).toEqual([]);
    const unused = (project('fastify').testPathIgnorePatterns ?? [])
      .filter((pattern) => pattern !== '/node_modules/')
      .filter((pattern) => !suites.some((f) => new RegExp(pattern.replace(/<rootDir>/g, ROOT)).test(f)));
    expect(unused).toEqual([]);
  });
});
