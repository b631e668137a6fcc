/** The routes: sign-in without a token; deployments, one deployment, pools with one. */
import { useEffect, useMemo } from "react";
import { clientFor } from "./api.ts";
import { ClientContext } from "./client-context.ts";
import { Layout } from "./components/Layout.tsx";
import { DeploymentPage } from "./pages/DeploymentPage.tsx";
import { DeploymentsPage } from "./pages/DeploymentsPage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";
import { PoolsPage } from "./pages/PoolsPage.tsx";
import { SignInPage } from "./pages/SignInPage.tsx";
import { matchPath, navigate, useLocation } from "./router.tsx";
import { getToken } from "./session.ts";

export function App() {
  const { path, query } = useLocation();
  const token = getToken();
  const client = useMemo(() => (token ? clientFor(token) : null), [token]);

  useEffect(() => {
    if (!token && path !== "/sign-in") navigate(`/sign-in?next=${encodeURIComponent(path + (query.size ? `?${query}` : ""))}`, { replace: true });
    document.title = titleFor(path);
  }, [token, path, query]);

  if (path === "/sign-in" || !client) return <SignInPage />;
  const deployment = matchPath("/deployments/:id", path);
  return (
    <ClientContext.Provider value={client}>
      <Layout>
        {path === "/" ? (
          <DeploymentsPage />
        ) : deployment?.id ? (
          <DeploymentPage key={deployment.id} id={deployment.id} />
        ) : path === "/pools" ? (
          <PoolsPage />
        ) : (
          <NotFoundPage />
        )}
      </Layout>
    </ClientContext.Provider>
  );
}

function titleFor(path: string): string {
  const d = matchPath("/deployments/:id", path);
  if (d) return `${d.id} · Kiln`;
  if (path === "/pools") return "Pools · Kiln";
  if (path === "/sign-in") return "Sign in · Kiln";
  return "Deployments · Kiln";
}
