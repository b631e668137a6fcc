/** Load now, then every `intervalMs` (paused while the tab is hidden); `refresh` loads at once. */
import { useCallback, useEffect, useRef, useState } from "react";

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key: string): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => {});

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    setData(undefined);
    setError(undefined);
    const tick = async () => {
      clearTimeout(timer);
      if (running) return;
      running = true;
      try {
        const value = await loadRef.current();
        if (alive) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        if (alive) setError(err);
      } finally {
        running = false;
        if (alive) timer = setTimeout(() => (document.hidden ? schedule() : void tick()), intervalMs);
      }
    };
    const schedule = () => {
      timer = setTimeout(() => (document.hidden ? schedule() : void tick()), intervalMs);
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { data, error, refresh };
}
