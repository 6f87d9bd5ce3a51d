import { useState } from "preact/hooks";
import * as v from "valibot";
import { type SignupAnswer, SignupSchema } from "../../api-shapes.ts";
import { clockTime } from "../format.ts";
import { ApiError, errorMessage, requestJson } from "../http.ts";

type FieldErrors = Partial<Record<"name" | "email", string>>;

type Outcome =
  | { kind: "created"; response: SignupAnswer }
  | { kind: "duplicate"; response: SignupAnswer }
  | { kind: "error"; message: string };

/** Field messages from the same schema the User Service checks with. */
function fieldErrors(issues: { path: string; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = issue.path === "name" || issue.path === "email" ? issue.path : null;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return errors;
}

/**
 * The signup form. It checks fields in the browser with the catalog's rules (instant messages),
 * but the User Service checks again: its answer (created, duplicate or refused) is what shows.
 */
export function SignupForm({ onSignedUp }: { onSignedUp: (response: SignupAnswer) => void }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function submit(e: Event) {
    e.preventDefault();
    const local = v.safeParse(SignupSchema, { name, email });
    if (!local.success) {
      setErrors(
        fieldErrors(
          local.issues.map((i) => ({ path: i.path?.map((p) => String(p.key)).join(".") ?? "", message: i.message })),
        ),
      );
      setOutcome(null);
      return;
    }
    setErrors({});
    setOutcome(null);
    setBusy(true);
    try {
      const response = await requestJson<SignupAnswer>("/demo/users", { method: "POST", body: { name, email } });
      setOutcome({ kind: response.created ? "created" : "duplicate", response });
      onSignedUp(response);
    } catch (err) {
      if (err instanceof ApiError && err.issues.length > 0) setErrors(fieldErrors(err.issues));
      setOutcome({ kind: "error", message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate data-testid="signup-form">
      <div class="field">
        <label for="name">Name</label>
        <input
          id="name"
          name="name"
          autocomplete="name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          aria-invalid={errors.name ? "true" : undefined}
          aria-describedby={errors.name ? "name-error" : undefined}
          placeholder="Ada Lovelace"
        />
        {errors.name && (
          <span id="name-error" class="field-error">
            {errors.name}
          </span>
        )}
      </div>
      <div class="field">
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="email"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          aria-invalid={errors.email ? "true" : undefined}
          aria-describedby={errors.email ? "email-error" : undefined}
          placeholder="ada@example.com"
        />
        {errors.email && (
          <span id="email-error" class="field-error" data-testid="email-error">
            {errors.email}
          </span>
        )}
      </div>
      <div class="actions">
        <button type="submit" class="btn" disabled={busy}>
          {busy ? "Signing up…" : "Sign up"}
        </button>
      </div>
      {outcome && <OutcomeNotice outcome={outcome} />}
    </form>
  );
}

function OutcomeNotice({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === "error") {
    return (
      <div class="notice error" role="alert" data-testid="signup-outcome">
        <strong>Not signed up</strong>
        {outcome.message}
      </div>
    );
  }
  const { user, registered, duplicate } = outcome.response;
  if (outcome.kind === "created") {
    return (
      <div class="notice ok" role="status" data-testid="signup-outcome">
        <strong>Welcome aboard, {user.name}</strong>
        The User Service stored you as <code>{user.userId}</code> and published <code>UserRegistered</code> to{" "}
        <code>users</code> at seq {registered.seq}. Your welcome email is on its way.
      </div>
    );
  }
  return (
    <div class="notice info" role="status" data-testid="signup-outcome">
      <strong>Already registered</strong>
      {user.email} signed up at {clockTime(user.createdAt)}. The User Service published the same event id again
      {duplicate ? (
        <>
          {" "}
          and the log answered <em>duplicate</em> (seq {registered.seq}): nothing new was stored
        </>
      ) : (
        <> (seq {registered.seq}); the Notification Service keeps one email per signup</>
      )}
      , so no second email will be sent.
    </div>
  );
}
