import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './page-strings';

export interface PageAsset {
  type: string;
  body: string;
}

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const ASSET_FILES = ['pages.css', 'common.js', 'sign-in.js', 'account.js', 'transfer.js'];

/**
 * The pages' stylesheet and scripts, read once at start-up from src/app/pages/assets (plain files:
 * no front-end build step; `tsc` does not copy them, so a built app reads them from the source tree).
 */
export function loadPageAssets(dir = join(projectRoot(), 'src', 'app', 'pages', 'assets')): ReadonlyMap<string, PageAsset> {
  return new Map(ASSET_FILES.map((name) => [name, { type: TYPES[name.slice(name.lastIndexOf('.'))], body: readFileSync(join(dir, name), 'utf8') }]));
}
