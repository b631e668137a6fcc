/** The API token, kept in localStorage; a refused token signs the user out with a reason. */
import { navigate } from "./router.tsx";

const KEY = "kiln.token";
const REASON = "kiln.signout-reason";

export function getToken(): string | null {
  return window.localStorage.getItem(KEY);
}

export function setToken(token: string): void {
  window.localStorage.setItem(KEY, token);
}

/** Forget the token and go to sign-in; `reason` is shown there once. */
export function signOut(reason?: string): void {
  window.localStorage.removeItem(KEY);
  if (reason) window.sessionStorage.setItem(REASON, reason);
  const here = window.location.pathname + window.location.search;
  const next = here.startsWith("/sign-in") ? "" : `?next=${encodeURIComponent(here)}`;
  navigate(`/sign-in${next}`, { replace: true });
}

export function takeSignOutReason(): string | null {
  const reason = window.sessionStorage.getItem(REASON);
  window.sessionStorage.removeItem(REASON);
  return reason;
}
