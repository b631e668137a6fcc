/**
 * An image run the way builder tests check one: one container with its port published on
 * 127.0.0.1 and the test's labels, started, and its URL once it answers HTTP (any status).
 * What a test made is removed by its run label with removeLabelled.
 */
import type { Labels } from "../../src/core/ports/runtime.ts";
import type { DockerEngine } from "../../src/adapters/docker/engine.ts";

export async function serveImage(runtime: DockerEngine, opts: { image: string; port: number; name: string; labels: Labels }): Promise<string> {
  const id = await runtime.createContainer({
    name: opts.name,
    image: opts.image,
    labels: opts.labels,
    env: {},
    network: "bridge",
    publishPort: opts.port,
    memoryBytes: 256 * 1024 * 1024,
    nanoCpus: 1_000_000_000,
    pidsLimit: 256,
    restartPolicy: "no",
  });
  await runtime.startContainer(id);
  const info = await runtime.inspectContainer(id);
  if (!info?.published) throw new Error(`container ${opts.name} has no published port: ${JSON.stringify(info)}`);
  const url = `http://${info.published}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.arrayBuffer().then(() => true),
      () => false,
    );
    if (ok) return url;
    if (Date.now() > deadline) throw new Error(`${opts.name} did not answer on ${url}:\n${(await runtime.tailLogs(id, 20)).join("\n")}`);
    await Bun.sleep(200);
  }
}

/** Remove the containers, then the images, that carry `label`. */
export async function removeLabelled(runtime: DockerEngine, label: Labels): Promise<void> {
  for (const c of await runtime.listContainers(label)) await runtime.removeContainer(c.id);
  for (const img of await runtime.listImages(label)) {
    for (const tag of img.tags) await runtime.removeImage(tag);
    if (img.tags.length === 0) await runtime.removeImage(img.id);
  }
}
