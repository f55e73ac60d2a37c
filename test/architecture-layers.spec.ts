import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

const repo = resolve(__dirname, '..');
const otpDir = join(repo, 'src/otp');
const ROOT = '(root)';

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : /(?<!\.spec)\.ts$/.test(d.name) ? [join(dir, d.name)] : [],
  );

const folderOf = (file: string): string => {
  const parts = relative(otpDir, file).split(sep);
  return parts.length === 1 ? ROOT : parts[0];
};

/** The file a relative specifier names, or undefined for a package or a file outside the tree. */
function resolveRelative(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts'), base].find((c) => statSync(c, { throwIfNoEntry: false })?.isFile());
}

/** Folder-to-folder imports of `src/otp` (type-only imports count), each with one file pair as evidence. */
function folderImports(): Map<string, string> {
  const edges = new Map<string, string>();
  for (const file of sources(otpDir)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      const target = resolveRelative(file, fileName);
      if (!target?.startsWith(otpDir + sep)) continue;
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from !== to && !edges.has(`${from} -> ${to}`)) edges.set(`${from} -> ${to}`, `${relative(otpDir, file)} imports ${fileName}`);
    }
  }
  return edges;
}

/** The rows of one table of docs/architecture.md, under the heading `title`, as cells without backticks. */
function tableRows(title: string): string[][] {
  const doc = readFileSync(join(repo, 'docs/architecture.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (!section) throw new Error(`docs/architecture.md has no "## ${title}" section`);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

const names = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

const layers = tableRows('Layers').map(([folder, , mayImport]) => ({ folder: names(folder)[0], allowed: names(mayImport) }));

describe('the layers of src/otp (docs/architecture.md)', () => {
  const edges = folderImports();
  const order = layers.map((l) => l.folder);

  it('names every folder of src/otp once, and the root', () => {
    const folders = readdirSync(otpDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect([...order].sort()).toEqual([ROOT, ...folders].sort());
    expect(new Set(order).size).toBe(order.length);
  });

  it('keeps only otp.module.ts and index.ts at the root of src/otp', () => {
    const rootFiles = sources(otpDir).filter((f) => folderOf(f) === ROOT).map((f) => relative(otpDir, f));
    expect(rootFiles.sort()).toEqual(['index.ts', 'otp.module.ts']);
  });

  it('is a layering: every folder may import only folders below its own row (so no loop)', () => {
    const upward = layers.flatMap(({ folder, allowed }) =>
      allowed.filter((to) => order.indexOf(to) <= order.indexOf(folder)).map((to) => `${folder} -> ${to}`),
    );
    expect(upward).toEqual([]);
  });

  it('holds in the code: each folder imports only what its row allows (no exception)', () => {
    const allowed = new Set(layers.flatMap(({ folder, allowed: to }) => to.map((t) => `${folder} -> ${t}`)));
    const unlisted = [...edges].filter(([edge]) => !allowed.has(edge)).map(([edge, why]) => `${edge} (${why})`);
    expect(unlisted).toEqual([]);
  });
});
