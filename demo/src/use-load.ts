import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorMessage } from "./http.ts";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  /** True until the first answer (or failure); later reloads keep showing the last data. */
  loading: boolean;
  reload: () => void;
}

/**
 * Loads something when `key` changes or `reload()` is called. Later loads keep the previous
 * data on screen, and an answer that arrives after a newer request started is dropped.
 */
export function useLoad<T>(load: () => Promise<T>, key: unknown): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  // key and tick are the reload signals
  useEffect(() => {
    const request = ++latest.current;
    loader
      .current()
      .then((value) => {
        if (request !== latest.current) return;
        setData(value);
        setError(null);
      })
      .catch((err) => {
        if (request === latest.current) setError(errorMessage(err));
      })
      .finally(() => {
        if (request === latest.current) setLoading(false);
      });
  }, [key, tick]);

  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}
