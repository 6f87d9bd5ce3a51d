import type { ComponentChildren } from "preact";

/** The bar on top of both pages: the product, the two pages, and a status slot on the right. */
export function TopBar({ page, children }: { page: "signup" | "console"; children?: ComponentChildren }) {
  return (
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="/">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-text">event-mesh</span>
        </a>
        <nav class="nav" aria-label="Pages">
          <a href="/" aria-current={page === "signup" ? "page" : undefined}>
            Signup demo
          </a>
          <a href="/console" aria-current={page === "console" ? "page" : undefined}>
            Console
          </a>
        </nav>
        <span class="spacer" />
        {children}
      </div>
    </header>
  );
}
