import { useEffect, useState } from "preact/hooks";
import type { FailureSwitch, OutboxAnswer, OutboxEmail } from "../../api-shapes.ts";
import { Empty, ErrorBox, Loading } from "../components/states.tsx";
import { clockTime } from "../format.ts";
import { errorMessage, requestJson } from "../http.ts";

/** This visitor's failure switch of the Notification Service: while on, every attempt for its signups throws. */
export function FailureSwitchRow() {
  const [state, setState] = useState<FailureSwitch | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () => {
    setError(null);
    requestJson<FailureSwitch>("/demo/failure-switch")
      .then(setState)
      .catch((err) => setError(errorMessage(err)));
  };
  useEffect(load, []);

  async function toggle() {
    if (!state) return;
    setBusy(true);
    try {
      setState(
        await requestJson<FailureSwitch>("/demo/failure-switch", { method: "PUT", body: { failing: !state.failing } }),
      );
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  if (error) return <ErrorBox message={`Cannot read the failure switch: ${error}`} onRetry={load} />;
  if (!state) return <Loading lines={2} label="Loading the failure switch" />;
  return (
    <div class="switch-row">
      <div class="label">
        <span class="switch-title" id="switch-label">
          Failure switch{" "}
          {state.failing ? <span class="badge danger">failing</span> : <span class="badge ok">healthy</span>}
        </span>
        <span class="switch-hint">
          {state.failing
            ? "Every attempt for your signups throws. The queue retries with backoff; after its last retry the message becomes a dead letter an operator can redrive from the console."
            : "Turn it on before signing up to watch retries, then off to see the email go out exactly once. It affects only your signups."}
        </span>
      </div>
      <button
        type="button"
        role="switch"
        class="switch"
        aria-checked={state.failing}
        aria-labelledby="switch-label"
        disabled={busy}
        onClick={toggle}
        data-testid="failure-switch"
      />
    </div>
  );
}

/**
 * The Notification Service's outbox for this user. It is read when the page learns (from the
 * live WelcomeEmailSent event) that something was sent: `version` changes then.
 */
export function Outbox({ userId, version }: { userId: string | null; version: number }) {
  const [emails, setEmails] = useState<OutboxEmail[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const [retry, setRetry] = useState(0);
  // version (a new WelcomeEmailSent) and retry are the signals to read again
  useEffect(() => {
    if (!userId) return;
    let live = true;
    setError(null);
    requestJson<OutboxAnswer>(`/demo/outbox?userId=${encodeURIComponent(userId)}`)
      .then((body) => live && setEmails(body.emails))
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [userId, version, retry]);

  if (!userId) return <Empty title="Nothing sent yet">Welcome emails land here, one per signup.</Empty>;
  if (error) return <ErrorBox message={`Cannot read the outbox: ${error}`} onRetry={() => setRetry((n) => n + 1)} />;
  if (!emails) return <Loading lines={2} label="Loading the outbox" />;
  if (emails.length === 0) {
    return <Empty title="Nothing sent yet">The welcome email appears here once the service sends it.</Empty>;
  }
  return (
    <ul class="outbox" data-testid="outbox">
      {emails.map((email) => (
        <li key={email.emailId} data-testid="outbox-email">
          <div class="subject">{email.subject}</div>
          <div class="meta">
            to {email.to} · {clockTime(email.sentAt)} · <span class="mono">{email.emailId.slice(0, 14)}</span>
          </div>
        </li>
      ))}
    </ul>
  );
}
