import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const README = join(ROOT, 'README.md');

/** The markdown guides: the README, docs/ and test/README.md. */
function guides(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f));
  return [README, join(ROOT, 'test', 'README.md'), ...docs];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  let inFence = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = !inFence && /^#{1,6} (.+)$/.exec(line);
    if (!heading) continue;
    anchors.add(
      heading[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

/** Relative links `[text](target)` outside code fences. */
function linksOf(file: string): string[] {
  const links: string[] = [];
  let inFence = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    if (inFence) continue;
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1])) links.push(m[1]);
  }
  return links;
}

describe('the README is a guide; the details live in docs/', () => {
  it('keeps the README under 300 lines', () => {
    expect(readFileSync(README, 'utf8').split('\n').length).toBeLessThan(300);
  });

  it('every relative link of the README, docs/ and test/README.md names a file that exists, and a heading in it', () => {
    const broken: string[] = [];
    for (const file of guides()) {
      for (const link of linksOf(file)) {
        const [path, anchor] = link.split('#');
        const target = path ? resolve(dirname(file), path) : file;
        const where = `${relative(ROOT, file)} -> ${link}`;
        if (!existsSync(target)) broken.push(`${where} (no such file)`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the security checklist the tests cite (R1-R42) is in the repository', () => {
    const checklist = readFileSync(join(ROOT, 'docs', 'security-checklist.md'), 'utf8');
    for (let n = 1; n <= 42; n++) expect(checklist).toMatch(new RegExp(`\\bR${n}\\b`));
  });
});
