/** The frame of every signed-in page: skip link, top bar with navigation, sign-out. */
import type { ReactNode } from "react";
import { Link, useLocation } from "../router.tsx";
import { signOut } from "../session.ts";

export function Layout({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const current = (prefix: string) => (prefix === "/" ? path === "/" || path.startsWith("/deployments") : path.startsWith(prefix));
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span className="brand-mark" aria-hidden="true">▲</span> Kiln
        </Link>
        <nav aria-label="Main">
          <Link to="/" aria-current={current("/") ? "page" : undefined}>
            Deployments
          </Link>
          <Link to="/pools" aria-current={current("/pools") ? "page" : undefined}>
            Pools
          </Link>
        </nav>
        <button type="button" className="button ghost small" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" className="page">
        {children}
      </main>
    </>
  );
}
