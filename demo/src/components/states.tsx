import type { ComponentChildren } from "preact";

/** Placeholder lines while something loads. */
export function Loading({ lines = 3, label = "Loading" }: { lines?: number; label?: string }) {
  return (
    <div aria-busy="true">
      <span class="sr-only">{label}…</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} class="skeleton" style={{ width: `${90 - i * 17}%` }} />
      ))}
    </div>
  );
}

/** What a list shows when it has nothing yet, and what will fill it. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <span class="empty-title">{title}</span>
      {children && <span>{children}</span>}
    </div>
  );
}

/** A failed load, with a way to try again. */
export function ErrorBox({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div class="error-box" role="alert">
      <span class="error-message">{message}</span>
      {onRetry && (
        <button type="button" class="btn small secondary" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}
