import type { ComponentChildren } from "preact";
import type { Loaded } from "../use-load.ts";
import { ErrorBox, Loading } from "./states.tsx";

/**
 * What a loaded list shows: its error with a retry while nothing was ever loaded, placeholders
 * while the first load runs, `empty` when it has nothing, and otherwise `children(data)`. Later
 * reloads keep the last data on screen.
 */
export function LoadedView<T>({
  loaded,
  what,
  empty,
  children,
}: {
  loaded: Loaded<T[]>;
  /** What is listed, for the error and loading messages ("topics"). */
  what: string;
  empty: ComponentChildren;
  children: (data: T[]) => ComponentChildren;
}) {
  if (loaded.error && !loaded.data) {
    return <ErrorBox message={`Cannot list ${what}: ${loaded.error}`} onRetry={loaded.reload} />;
  }
  if (!loaded.data) return <Loading label={`Loading ${what}`} />;
  if (loaded.data.length === 0) return <>{empty}</>;
  return <>{children(loaded.data)}</>;
}
