/**
 * The single-node swarm the Swarm tests run on: this machine's dockerd, made a swarm manager on
 * loopback (`docker swarm init --advertise-addr 127.0.0.1`) when it is not one yet. Never left.
 */
import { EngineHttp } from "../../src/adapters/docker/http.ts";
import { SwarmClient } from "../../src/adapters/swarm/client.ts";

export const swarmClient = (): SwarmClient => new SwarmClient(new EngineHttp("/var/run/docker.sock", "v1.41"));

export async function ensureSwarm(): Promise<SwarmClient> {
  const client = swarmClient();
  const state = await client.state();
  if (!state.active) await client.init("127.0.0.1");
  else if (!state.manager) throw new Error("this dockerd is in a swarm but not a manager: the Swarm tests need a manager");
  return client;
}
