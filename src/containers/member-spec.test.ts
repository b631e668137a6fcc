import { expect, test } from "bun:test";
import type { WorkloadSpec } from "../core/workload.ts";
import { memberContainerSpec, type MemberDefaults } from "./member-spec.ts";

const defaults: MemberDefaults = { network: "kiln", memoryBytes: 256 * 1024 * 1024, nanoCpus: 500_000_000, pids: 128, tmpfsSize: "64m" };
const slot = { state: "/data/slots/m1/state", secrets: "/data/slots/m1/secrets" };

const workload: WorkloadSpec = {
  id: "notes",
  name: "Notes",
  image: "notes:1",
  state: { target: "/data" },
  secrets: { target: "/run/secrets", readOnly: true },
  environment: { MODE: "pool" },
  command: ["node", "server.js"],
  healthcheck: { test: ["CMD", "true"], intervalMs: 1000, timeoutMs: 500, retries: 3, startPeriodMs: 0 },
  limits: { nanoCpus: 250_000_000, memoryBytes: null },
  readOnly: true,
  user: "1000:1000",
  networkMode: null,
  port: 8080,
  pool: { minSize: 1, maxSize: 2, idleTimeoutMs: 60_000 },
  sync: null,
  file: "notes.yaml",
  hash: "h1",
};

const tmpfs = "rw,noexec,nosuid,nodev,size=64m";

test("a member: hardened, limited, labelled, with its two slot mounts", () => {
  expect(memberContainerSpec(workload, "notes@sha256:abc", "m1", slot, "i1", defaults)).toEqual({
    name: "kiln-pool-notes-m1",
    image: "notes@sha256:abc",
    labels: { "kiln.managed": "true", "kiln.instance": "i1", "kiln.kind": "pool-member", "kiln.workload": "notes", "kiln.member": "m1", "kiln.spec-hash": "h1" },
    env: { MODE: "pool", PORT: "8080" },
    cmd: ["node", "server.js"],
    network: "kiln",
    publishPort: 8080,
    memoryBytes: 256 * 1024 * 1024,
    nanoCpus: 250_000_000,
    pidsLimit: 128,
    restartPolicy: "no",
    readOnlyRootfs: true,
    user: "1000:1000",
    tmpfs: { "/tmp": tmpfs, "/run": tmpfs },
    mounts: [
      { source: slot.state, target: "/data", readOnly: false, propagation: "rslave" },
      { source: slot.secrets, target: "/run/secrets", readOnly: true, propagation: "rslave" },
    ],
    healthcheck: { test: ["CMD", "true"], intervalMs: 1000, timeoutMs: 500, retries: 3, startPeriodMs: 0 },
  });
});

test("a bare workload: no port, no mounts, no healthcheck; its network mode wins", () => {
  const bare: WorkloadSpec = { ...workload, state: null, secrets: null, command: null, healthcheck: null, port: null, user: null, readOnly: false, networkMode: "none", limits: { nanoCpus: null, memoryBytes: null } };
  expect(memberContainerSpec(bare, "notes:1", "m2", slot, "i1", defaults)).toEqual({
    name: "kiln-pool-notes-m2",
    image: "notes:1",
    labels: { "kiln.managed": "true", "kiln.instance": "i1", "kiln.kind": "pool-member", "kiln.workload": "notes", "kiln.member": "m2", "kiln.spec-hash": "h1" },
    env: { MODE: "pool" },
    cmd: undefined,
    network: "none",
    publishPort: undefined,
    memoryBytes: 256 * 1024 * 1024,
    nanoCpus: 500_000_000,
    pidsLimit: 128,
    restartPolicy: "no",
    readOnlyRootfs: false,
    user: undefined,
    tmpfs: { "/tmp": tmpfs, "/run": tmpfs },
    mounts: [],
    healthcheck: undefined,
  });
});
