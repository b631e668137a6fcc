/** The signed-in KilnClient, shared by every page. */
import { createContext, useContext } from "react";
import type { KilnClient } from "../../src/client/api-client.ts";

export const ClientContext = createContext<KilnClient | null>(null);

export function useClient(): KilnClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside a signed-in page");
  return client;
}
