/**
 * Users' own domains: attach a host to an app (validated, one app per host), list them with their
 * certificate state, detach; the `ask` rule Caddy consults before it gets a certificate; the internal
 * CA's root. Routes follow through DomainRoutes.
 */
import type { Deployment } from "../core/deployment.ts";
import { conflict, notFound } from "../core/errors.ts";
import type { TlsCertificates } from "../core/ports/routes.ts";
import type { Store } from "../core/ports/store.ts";
import { classifyName, normalizeHost } from "./host-rules.ts";
import { domainState, type DomainState } from "./status.ts";

export interface DomainView extends DomainState {
  host: string;
  url: string;
  createdAt: number;
}

export interface DomainServiceDeps {
  store: Pick<Store, "domains" | "deployments" | "pools">;
  /** Finds a deployment by id or name; 404 otherwise (DeploymentService.get). */
  deployment: (idOrName: string) => Promise<Deployment>;
  routes: { setHosts(deploymentId: string, hosts: string[]): Promise<void> };
  certs: TlsCertificates & { logPath: string };
  publicHost: string;
  publicPort: number;
  apiHost: string;
  tls: { mode: "off" | "internal" | "acme"; httpsPort: number };
  now?: () => number;
}

export class DomainService {
  readonly #d: DomainServiceDeps;
  readonly #now: () => number;

  constructor(d: DomainServiceDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
  }

  async add(idOrName: string, input: string): Promise<DomainView> {
    const d = await this.#d.deployment(idOrName);
    const host = normalizeHost(input, { publicHost: this.#d.publicHost, apiHost: this.#d.apiHost });
    const held = await this.#d.store.domains.get(host);
    if (held && held.deploymentId !== d.id) {
      const other = await this.#d.store.deployments.get(held.deploymentId);
      throw conflict(`${host} is attached to the app ${other?.name ?? held.deploymentId}`, `detach it there first: DELETE /api/v1/deployments/${other?.name ?? held.deploymentId}/domains/${host}`);
    }
    await this.#d.store.domains.add({ host, deploymentId: d.id, createdAt: this.#now() });
    await this.#apply(d.id);
    return this.#view((await this.#d.store.domains.get(host))!);
  }

  async list(idOrName: string): Promise<DomainView[]> {
    const d = await this.#d.deployment(idOrName);
    return Promise.all((await this.#d.store.domains.listFor(d.id)).map((x) => this.#view(x)));
  }

  async remove(idOrName: string, input: string): Promise<void> {
    const d = await this.#d.deployment(idOrName);
    const host = input.trim().toLowerCase().replace(/\.$/, "");
    const held = await this.#d.store.domains.get(host);
    if (!held || held.deploymentId !== d.id) throw notFound(`${host} is not attached to ${d.name}`, `see GET /api/v1/deployments/${d.name}/domains`);
    await this.#d.store.domains.remove(host);
    await this.#apply(d.id);
  }

  /** Caddy's `ask`: may it get a certificate for `name`? Attached domains, the public host, existing apps' and claimed tenants' hosts. */
  async allowed(name: string): Promise<boolean> {
    const asked = classifyName(name, this.#d.publicHost);
    switch (asked.kind) {
      case "public":
        return true;
      case "app":
        return (await this.#d.store.deployments.getByName(asked.name)) !== null;
      case "tenant": {
        const t = await this.#d.store.pools.getTenant(asked.tenantId, asked.workloadId).catch(() => null);
        return !!t && t.status !== "released";
      }
      case "other":
        return (await this.#d.store.domains.get(asked.host)) !== null;
    }
  }

  /** The internal CA's root certificate (PEM); 404 saying why when KILN_TLS is not internal. */
  async rootPem(): Promise<string> {
    if (this.#d.tls.mode !== "internal") {
      throw notFound(`there is no internal CA: KILN_TLS is ${this.#d.tls.mode}`, "set KILN_TLS=internal to have Caddy issue certificates from its own CA");
    }
    return this.#d.certs.rootPem();
  }

  /** Where a host is served: https://host[:httpsPort]/ with TLS on, http://host[:publicPort]/ off. */
  urlOf(host: string): string {
    const { tls, publicPort } = this.#d;
    if (tls.mode === "off") return `http://${host}${publicPort === 80 ? "" : `:${publicPort}`}/`;
    return `https://${host}${tls.httpsPort === 443 ? "" : `:${tls.httpsPort}`}/`;
  }

  async #apply(deploymentId: string): Promise<void> {
    await this.#d.routes.setHosts(deploymentId, (await this.#d.store.domains.listFor(deploymentId)).map((x) => x.host));
  }

  async #view(x: { host: string; createdAt: number }): Promise<DomainView> {
    const url = this.urlOf(x.host);
    const on = this.#d.tls.mode !== "off";
    const [certificate, error] = on ? await Promise.all([this.#d.certs.certificate(x.host), this.#d.certs.lastError(x.host, x.createdAt)]) : [null, null];
    const state = domainState({ host: x.host, tls: this.#d.tls.mode, url, certificate, error, now: this.#now(), logPath: this.#d.certs.logPath });
    return { host: x.host, url, createdAt: x.createdAt, ...state };
  }
}
