import { INestApplication, RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';

export interface AppRoute {
  method: string;
  /** Full path with `:params`, e.g. `/auth/otp/challenges/:id/verify`. */
  path: string;
  /** Names of the guards on the route (its controller's and its own), e.g. `SessionGuard`. */
  guards: string[];
}

const join = (...parts: string[]) => '/' + parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');

/** Every route the app mounts, read from its controllers' metadata (so routes added later are covered too). */
export function routesOf(app: INestApplication): AppRoute[] {
  const routes = new Map<string, AppRoute>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!cls) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, cls) ?? '');
      const guardNames = (target: object) => ((Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as { name?: string }[]).map((g) => g?.name ?? String(g));
      for (let proto = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = Object.getOwnPropertyDescriptor(proto, name)?.value;
          if (typeof handler !== 'function' || name === 'constructor') continue;
          const paths = Reflect.getMetadata(PATH_METADATA, handler);
          if (paths === undefined) continue;
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod] ?? 'GET';
          for (const prefix of prefixes) {
            for (const p of ([] as string[]).concat(paths)) {
              const route = { method: method === 'ALL' ? 'POST' : method, path: join(prefix, p), guards: [...guardNames(cls), ...guardNames(handler)] };
              routes.set(`${route.method} ${route.path}`, route);
            }
          }
        }
      }
    }
  }
  return [...routes.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
