/** A copy of `set` with `items` added, dropping the oldest entries beyond `max` (insertion order). */
export function boundedAdd<T>(set: ReadonlySet<T>, items: readonly T[], max: number): Set<T> {
  const next = new Set(set);
  for (const i of items) {
    next.delete(i);
    next.add(i);
  }
  for (const old of next) {
    if (next.size <= max) break;
    next.delete(old);
  }
  return next;
}

/** A copy of `map` with `key` set last, dropping the oldest entries beyond `max` (insertion order). */
export function boundedSet<K, V>(map: ReadonlyMap<K, V>, key: K, value: V, max: number): Map<K, V> {
  const next = new Map(map);
  next.delete(key);
  next.set(key, value);
  for (const old of next.keys()) {
    if (next.size <= max) break;
    next.delete(old);
  }
  return next;
}
