import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The console's stylesheet and script, read once. They live beside this file in `src/`;
 * the compiled app (`dist/src/...`) has no copy, so it reads them from the source tree.
 */
function assetsDir(from = __dirname): string {
  const beside = join(from, 'assets');
  if (existsSync(join(beside, 'console.js'))) return beside;
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'app', 'pages', 'console', 'assets');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
  }
  throw new Error(`operator console: no assets folder above ${from}`);
}

export interface ConsoleAsset {
  type: string;
  body: string;
}

let cached: Record<'css' | 'js', ConsoleAsset> | undefined;

export function consoleAssets(): Record<'css' | 'js', ConsoleAsset> {
  if (!cached) {
    const dir = assetsDir();
    cached = {
      css: { type: 'text/css; charset=utf-8', body: readFileSync(join(dir, 'console.css'), 'utf8') },
      js: { type: 'text/javascript; charset=utf-8', body: readFileSync(join(dir, 'console.js'), 'utf8') },
    };
  }
  return cached;
}
