import type { ComponentChildren } from "preact";

/** The shell every card shares: a titled head with an optional hint, an optional line below it, and the body. */
export function Card({
  id,
  title,
  hint,
  sub,
  testId,
  area,
  children,
}: {
  /** Names the heading, which labels the card. */
  id: string;
  title: string;
  hint?: ComponentChildren;
  sub?: ComponentChildren;
  testId?: string;
  /** The page layout's grid area, if any (`form`, `flow`, …). */
  area?: string;
  children: ComponentChildren;
}) {
  return (
    <section class={area ? `card area-${area}` : "card"} aria-labelledby={`${id}-title`} data-testid={testId}>
      <div class="card-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {hint && <span class="hint">{hint}</span>}
      </div>
      {sub && <p class="card-sub">{sub}</p>}
      <div class="card-body">{children}</div>
    </section>
  );
}
