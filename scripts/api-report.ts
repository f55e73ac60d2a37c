/**
 * `npm run api:report`: the API report of the package, what `nestjs-email-otp` and
 * `nestjs-email-otp/testing` export, one entry per exported name (its kind and declaration;
 * the public members of a class or interface one per line beneath it), read from the
 * declarations tsc emits for tsconfig.lib.json (in memory). Writes etc/nestjs-email-otp.api.md;
 * test/api-report.spec.ts fails with a diff when the surface differs from that file.
 */
import { builtinModules } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as ts from 'typescript';

const repo = resolve(__dirname, '..');
export const API_REPORT_FILE = join(repo, 'etc/nestjs-email-otp.api.md');
/** Entry point (package export) → its declaration file, as tsconfig.lib.json emits it. */
export const ENTRY_POINTS: Record<string, string> = {
  'nestjs-email-otp': 'src/otp/index.d.ts',
  'nestjs-email-otp/testing': 'src/otp/testing/index.d.ts',
};

/** The emitted declarations, as a program a host would load: the entry points and what they reach. */
export interface EmittedDeclarations {
  program: ts.Program;
  /** Absolute path of each entry point's d.ts, by entry point name. */
  entries: Record<string, string>;
  /** The package's own d.ts files the entry points reach. */
  reached: ts.SourceFile[];
}

function libConfig(): ts.ParsedCommandLine {
  const config = ts.getParsedCommandLineOfConfigFile(join(repo, 'tsconfig.lib.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.lib.json could not be read');
  return config;
}

/** Emits the library's declarations into memory (nothing is written) and loads them from its entry points. */
export function emitDeclarations(): EmittedDeclarations {
  const config = libConfig();
  const options = { ...config.options, declarationMap: false, noEmit: false, emitDeclarationOnly: true };
  const files = new Map<string, string>();
  const emit = ts.createProgram({ rootNames: config.fileNames, options }).emit(undefined, (file, text) => files.set(resolve(file), text));
  const errors = emit.diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (emit.emitSkipped || errors.length > 0) {
    throw new Error(`declarations not emitted:\n${ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => repo, getNewLine: () => '\n' })}`);
  }
  const outDir = options.outDir!;
  const entries = Object.fromEntries(Object.entries(ENTRY_POINTS).map(([name, dts]) => [name, resolve(outDir, dts)]));
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, directoryExists } = host;
  const dirs = new Set([...files.keys()].flatMap((f) => f.split('/').slice(1, -1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`)));
  host.fileExists = (f) => files.has(resolve(f)) || fileExists.call(host, f);
  host.readFile = (f) => files.get(resolve(f)) ?? readFile.call(host, f);
  host.directoryExists = (d) => dirs.has(resolve(d)) || (directoryExists?.call(host, d) ?? true);
  const program = ts.createProgram({ rootNames: Object.values(entries), options: { ...options, noEmit: true, skipLibCheck: true }, host });
  const reached = program.getSourceFiles().filter((sf) => files.has(resolve(sf.fileName)));
  return { program, entries, reached };
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function oneLine(node: ts.Node, sf: ts.SourceFile): string {
  return printer.printNode(ts.EmitHint.Unspecified, node, sf).replace(/\s+/g, ' ').replace(/^(export )?(declare )?/, '').trim();
}

function isPrivate(member: ts.Node): boolean {
  const name = (member as { name?: ts.Node }).name;
  return (name !== undefined && ts.isPrivateIdentifier(name))
    || (ts.canHaveModifiers(member) && (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword));
}

/** A class or interface: its head (heritage included), then each non-private member indented. */
function describeMembered(decl: ts.ClassDeclaration | ts.InterfaceDeclaration, sf: ts.SourceFile): string[] {
  const f = ts.factory;
  const head = ts.isClassDeclaration(decl)
    ? f.updateClassDeclaration(decl, ts.getModifiers(decl), decl.name, decl.typeParameters, decl.heritageClauses, [])
    : f.updateInterfaceDeclaration(decl, ts.getModifiers(decl), decl.name, decl.typeParameters, decl.heritageClauses, []);
  const members: readonly ts.Node[] = decl.members;
  return [oneLine(head, sf).replace(/\s*\{\s*\}$/, ''), ...members.filter((m) => !isPrivate(m)).map((m) => `    ${oneLine(m, sf)}`)];
}

function describe(exported: string, decl: ts.Declaration): string[] {
  const sf = decl.getSourceFile();
  const declared = (decl as { name?: ts.Node }).name;
  const alias = declared && ts.isIdentifier(declared) && declared.text !== exported ? `${exported} = ` : '';
  if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) {
    const [head, ...members] = describeMembered(decl, sf);
    return [alias + head, ...members];
  }
  if (ts.isVariableDeclaration(decl)) {
    const keyword = decl.parent.flags & ts.NodeFlags.Const ? 'const' : decl.parent.flags & ts.NodeFlags.Let ? 'let' : 'var';
    return [`${alias}${keyword} ${oneLine(decl, sf)}`];
  }
  return [alias + oneLine(decl, sf)];
}

/** The report's lines for one entry point, sorted by exported name. */
function entryLines(program: ts.Program, file: string): string[] {
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file)!);
  if (!moduleSymbol) throw new Error(`${file} exports nothing`);
  const exported = [...checker.getExportsOfModule(moduleSymbol)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return exported.flatMap((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return (target.declarations ?? []).flatMap((d) => describe(symbol.name, d));
  });
}

/** The API report (markdown) of every entry point. */
export function apiReport(emitted: EmittedDeclarations = emitDeclarations()): string {
  const sections = Object.entries(emitted.entries).map(([name, file]) => {
    const lines = entryLines(emitted.program, file);
    return [`## \`${name}\``, '', '```ts', ...lines, '```', ''].join('\n');
  });
  return [
    '# API report: nestjs-email-otp',
    '',
    '<!-- Generated by `npm run api:report` from the emitted declarations; do not edit by hand. -->',
    'Every name a host can import, with its declaration (comments removed); public members of a class or',
    'interface are indented beneath it. A change to this file is a change to what hosts compile against.',
    '',
    ...sections,
  ].join('\n');
}

const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Packages (not relative paths) the reached declarations import: what a host must have to compile. */
export function importedPackages(emitted: EmittedDeclarations): string[] {
  const found = new Set<string>();
  const note = (spec: string) => {
    if (!spec.startsWith('.')) found.add(packageOf(spec));
  };
  for (const sf of emitted.reached) {
    sf.typeReferenceDirectives.forEach((r) => note(r.fileName));
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) note(node.moduleSpecifier.text);
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) note(node.argument.literal.text);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return [...found].sort();
}

/** Packages a host has when it installs this one: its dependencies, peers, and Node's own modules. */
export function packagesAHostHas(): Set<string> {
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  return new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...builtinModules.flatMap((m) => [m, `node:${m}`]).map(packageOf),
    'node',
  ]);
}

if (require.main === module) {
  mkdirSync(dirname(API_REPORT_FILE), { recursive: true });
  writeFileSync(API_REPORT_FILE, apiReport());
  console.log(`wrote ${API_REPORT_FILE}`);
}
