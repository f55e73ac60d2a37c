/** Objects whose every own property is data the resolvers built (not a class instance, Buffer, URL or RegExp). */
function isPlainData(value: unknown): value is Record<PropertyKey, unknown> {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether `path` (`monitoring.sinks.0`) is one of `patterns` (`monitoring.sinks.*`). */
function matches(path: string[], patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    const parts = pattern.split('.');
    return parts.length === path.length && parts.every((part, i) => part === '*' || part === path[i]);
  });
}

/**
 * A frozen copy of `value`: every plain object and array in it copied and frozen, to any
 * depth, so no feature can change what another reads after start-up. Copied rather than
 * frozen in place: some parts are the host's own objects (a purpose's `contextFields`, the
 * key list), which must stay as the host left them. Shared as they are: functions
 * (`currentUserEmail`, `clock`), class instances, URLs, RegExps and Buffers (a Buffer with
 * contents cannot be frozen), and whatever sits at one of the `shared` paths: a host's own
 * objects with behaviour (an alert sink or a throttler storage written as an object
 * literal keeps its state on itself, so a frozen copy of it would break it).
 */
export function deepFrozen<T>(value: T, shared: readonly string[] = [], path: string[] = []): T {
  if (!isPlainData(value) || (path.length > 0 && matches(path, shared))) return value;
  const copy: Record<PropertyKey, unknown> = Array.isArray(value) ? [] : Object.create(Object.getPrototypeOf(value));
  for (const key of Reflect.ownKeys(value)) {
    copy[key] = typeof key === 'string' ? deepFrozen(value[key], shared, [...path, key]) : value[key];
  }
  return Object.freeze(copy) as T;
}
