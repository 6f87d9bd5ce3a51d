import { useCallback, useState } from "preact/hooks";

export interface Toast {
  id: string;
  tone: "ok" | "warn";
  title: string;
  body: string;
}

/** A small toast queue: `show` adds one (once per id), each closes by itself or by its button. */
export function useToasts(lifetimeMs = 12_000) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: string) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (toast: Toast) => {
      setToasts((list) => (list.some((t) => t.id === toast.id) ? list : [...list, toast]));
      setTimeout(() => dismiss(toast.id), lifetimeMs);
    },
    [dismiss, lifetimeMs],
  );
  return { toasts, show, dismiss };
}

export function Toasts({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (id: string) => void }) {
  return (
    <div class="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} class={`toast ${toast.tone}`} role="status" data-testid="toast">
          <span class="icon" aria-hidden="true">
            {toast.tone === "ok" ? "✉" : "!"}
          </span>
          <div class="text">
            <div class="title">{toast.title}</div>
            <div class="body">{toast.body}</div>
          </div>
          <button type="button" class="close" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
