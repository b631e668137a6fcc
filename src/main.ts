/**
 * The composition root: config → adapters → services → HTTP + background loops.
 * Nothing else constructs an adapter; everything receives what it uses.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { resolveApiToken, resolveInstanceId } from "./identity.ts";
import { DockerEngine } from "./adapters/docker/engine.ts";
import { BuildCgroup } from "./adapters/cgroups/build-cgroup.ts";
import { describeLimits } from "./adapters/cgroups/limits.ts";
import { RuntimeImages } from "./adapters/docker/runtime-images.ts";
import { CaddyRouteTable } from "./adapters/caddy/route-table.ts";
import { CaddyCertificates } from "./adapters/caddy/certificates.ts";
import { loopbackAddress } from "./adapters/caddy/route-json.ts";
import { DomainRoutes } from "./domains/domain-routes.ts";
import { DomainService } from "./domains/domain-service.ts";
import { CaddySupervisor } from "./adapters/caddy/supervisor.ts";
import { GitFetcher } from "./adapters/sources/git.ts";
import { validateGitRef, validateGitUrl } from "./adapters/sources/git-commands.ts";
import { TarballFetcher } from "./adapters/sources/tarball.ts";
import { SqliteStore } from "./adapters/store/sqlite.ts";
import { PostgresStore } from "./adapters/store/postgres.ts";
import { redactDatabaseUrl } from "./adapters/store/postgres-sql.ts";
import { withEncryptedSecrets } from "./adapters/store/encrypted-secrets.ts";
import { SecretBox } from "./adapters/crypto/secret-box.ts";
import { loadSecretKey } from "./adapters/crypto/secret-key.ts";
import { createBuilders } from "./adapters/builders/index.ts";
import { LogBus } from "./logs/bus.ts";
import { LogRetention } from "./logs/retention.ts";
import { LogOffload } from "./logs/offload.ts";
import { TieredLogs } from "./logs/tiered-logs.ts";
import { RcloneLogObjects } from "./adapters/rclone/log-objects.ts";
import { deploymentStream, tenantStream } from "./logs/streams.ts";
import { BuildQueue } from "./deploy/queue.ts";
import { BuildRunner } from "./deploy/build-runner.ts";
import { RuntimeWatcher } from "./containers/runtime-watch.ts";
import { DeploymentService } from "./deploy/service.ts";
import { PreviewService } from "./previews/service.ts";
import { HookService } from "./hooks/hook-service.ts";
import { GC_INTERVAL_MS, Reconciler } from "./reconcile/deployments.ts";
import { PgUploads } from "./adapters/store/postgres-uploads.ts";
import { AppConvergence } from "./reconcile/app-convergence.ts";
import { EngineWatcher } from "./adapters/docker/engine-watcher.ts";
import { appContainerSpec, resolvePort } from "./containers/app-spec.ts";
import { newId } from "./core/ids.ts";
import { Rollout } from "./deploy/rollout.ts";
import { SwarmEngine } from "./deploy/swarm-engine.ts";
import { isSwarmInstance } from "./deploy/swarm-rollout.ts";
import { freeLoopbackPort, isPortTaken } from "./adapters/net/loopback-port.ts";
import { createHttpApp } from "./http/app.ts";
import { createKilnMetrics } from "./metrics/kiln-metrics.ts";
import { serveMetrics } from "./metrics/http.ts";
import { memberLifecycle } from "./core/pool.ts";
import { HealthCheck, explainDown } from "./http/health.ts";
import { websocket } from "hono/bun";
import { MANAGED } from "./core/labels.ts";
import { errorMessage, notFound } from "./core/errors.ts";
import { SlotMounts } from "./adapters/mounts/slot-mounts.ts";
import { RcloneSyncer } from "./adapters/rclone/rclone-syncer.ts";
import { assemblePools } from "./pools/assemble.ts";
import { TenantResolverProcess, resolverAnswers } from "./routing/resolver-process.ts";
import { killLeftoverCommands, withOwnerMarker } from "./adapters/exec/leftovers.ts";
import { StatsSampler } from "./stats/sampler.ts";
import { withClusterRequests } from "./stats/merge-requests.ts";
import { ClusterRequestStats } from "./cluster/request-stats.ts";
import { DockerContainerStats } from "./adapters/docker/container-stats.ts";
import { listenForAccessLog } from "./adapters/caddy/access-log.ts";
import { Cluster } from "./cluster/cluster.ts";
import { PgJobQueue } from "./cluster/job-queue.ts";
import { LeaderRuntimeWatcher } from "./cluster/leader-watcher.ts";
import { RemoteLogTail } from "./logs/remote-tail.ts";
import { startRouteSync } from "./cluster/route-sync.ts";
import { resolvePoolsNode } from "./cluster/node-lock.ts";
import { Peers } from "./cluster/peers.ts";
import { forwardToPeers, type ForwardedRequest } from "./http/forward.ts";


export interface Kiln {
  config: Config;
  token: string;
  tokenGenerated: boolean;
  tokenPath: string;
  /** http://host:port of the API */
  apiUrl: string;
  service: DeploymentService;
  bus: LogBus;
  runtime: DockerEngine;
  /** This Kiln's id: the `kiln.instance` label of everything it creates (several Kilns on one Postgres: the cluster's, shared). */
  instanceId: string;
  /** Repair and garbage collection (tests call `collectGarbage()` rather than wait for its timer). */
  reconciler: Reconciler;
  /** The engine's event stream (container start/die/…, engine lost/back), one per Kiln. */
  events: EngineWatcher;
  /** Keeps running apps running; `apps.answering()` asks every running deployment over HTTP. */
  apps: AppConvergence;
  /** The zero-downtime swap; `rollout.settled()` waits for drains in progress. */
  rollout: Rollout;
  /** KILN_ENGINE=swarm: the Swarm client, edge and registry Kiln runs apps through; null with docker. */
  swarm: SwarmEngine | null;
  /** Previews of pull requests and refs; `previews.sweep(now?)` runs the TTL/max sweeper at once. */
  previews: PreviewService;
  /** http://host:port/metrics when KILN_METRICS_ADDR is set (token-free there); null otherwise. */
  metricsUrl: string | null;
  /** Log offload to S3 (KILN_LOG_OFFLOAD_URL), null when off; tests call `logOffload.pass()` rather than wait. */
  logOffload: LogOffload | null;
  /** Per-app samples every 10 s (src/stats/); tests call `stats.sampleNow()` rather than wait. */
  stats: StatsSampler;
  stop(): Promise<void>;
}

export async function startKiln(config: Config, opts: { quiet?: boolean } = {}): Promise<Kiln> {
  const clusterStops: (() => void)[] = [];
  let peers: Peers | null = null;
  const say = (line: string) => {
    if (!opts.quiet) console.log(line);
  };
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const { token, generated, path: tokenPath } = await resolveApiToken(config.dataDir, config.apiToken);
  // This machine's Kiln: the commands it runs carry it (leftovers). Alone, it is also the label of what Kiln creates.
  const nodeId = await resolveInstanceId(config.dataDir);

  // Adapters: the only code that touches the outside.
  // KILN_DATABASE_URL: Postgres (several Kilns may share it); unset: SQLite in the data dir. dbPath names it, never with a password.
  const dbPath = config.databaseUrl ? redactDatabaseUrl(config.databaseUrl.reveal()) : join(config.dataDir, "kiln.db");
  // Secrets are sealed at rest with KILN_SECRET_KEY or $KILN_DATA_DIR/secret.key; every user of store.secrets gets the sealing repo.
  const secretKey = await loadSecretKey({ dataDir: config.dataDir, fromEnv: config.secretKey, warn: (m) => console.warn(`kiln: ${m}`) });
  const opened = config.databaseUrl ? await PostgresStore.open(config.databaseUrl.reveal()) : SqliteStore.open(dbPath);
  const store = withEncryptedSecrets(opened, new SecretBox(secretKey));
  // Several Kilns on one Postgres (src/cluster/): a shared label, leader election, a shared job queue, logs across.
  const cluster = config.databaseUrl ? await Cluster.open({ url: config.databaseUrl.reveal(), nodeId, say }) : null;
  // Several Kilns: an upload received by one is kept in the database too, so any of them can build it.
  const sharedUploads = cluster ? new PgUploads(cluster.db) : null;
  const instanceId = cluster?.id ?? nodeId;
  const sealed = await store.secrets.sealLegacy();
  if (sealed > 0) say(`sealed ${sealed} plaintext secret(s) left by an older Kiln`);
  // Builds' RUN steps share one memory cap and CPU quota, on the cgroup dockerd's BuildKit runs them in.
  const buildCgroup = new BuildCgroup({ limits: config.buildLimits, warn: (m) => say(m) });
  const runtime = new DockerEngine({ socketPath: config.dockerSocket, buildLimiter: buildCgroup });
  await runtime.ping();
  // The engine's events (the desired-state loops subscribe; connected before the boot passes, stopped in stop()).
  const events = new EngineWatcher({ socketPath: config.dockerSocket });
  const buildLimitsProblem = await buildCgroup.apply();
  say(buildLimitsProblem ?? `builds limited to ${describeLimits(config.buildLimits)} (cgroup /${buildCgroup.group})`);
  // Isolated: no traffic between its containers (members, apps). Made when Kiln starts, never at claim time.
  await runtime.ensureNetwork(config.dockerNetwork, { [MANAGED]: "true" }, "isolated");
  let reconciler: Reconciler | null = null;
  // Caddy asks this resolver (a process of its own, like Caddy) where each tenant's requests go, so
  // claims change no Caddy config and tenants' URLs keep answering while Kiln restarts.
  const tenantDns = new TenantResolverProcess({
    dataDir: config.dataDir,
    dbPath,
    databaseUrl: config.databaseUrl,
    publicHost: config.publicHost,
    port: config.pools.dnsPort,
    env: config.childEnv,
    onMoved: async (address) => {
      caddyRoutes.setTenantResolver(address);
      await reconciler?.reloadRoutes();
    },
    log: (line) => say(line),
  });
  // Per-app stats: containers from the engine, requests from Caddy's access log (sent to a loopback listener).
  // Several Kilns: each Caddy sees only its own requests; their totals are shared through the store.
  const sharedRequests = cluster ? new ClusterRequestStats(cluster.db, cluster.owner) : null;
  const stats = new StatsSampler({
    deployments: () => store.deployments.list(),
    domains: () => store.domains.all(),
    reader: new DockerContainerStats({ socketPath: config.dockerSocket }),
    publicHost: config.publicHost,
    ...(sharedRequests ? { onRequests: (ts, per) => void sharedRequests.record(ts, per).catch((err) => say(`stats: ${errorMessage(err)}`)) } : {}),
  });
  const statsView = sharedRequests
    ? {
        intervalSeconds: stats.intervalSeconds,
        series: async (id: string) => {
          const local = stats.series(id);
          const from = (local[0]?.ts ?? Date.now()) - stats.intervalSeconds * 1000;
          return withClusterRequests(local, await sharedRequests.rows(id, from), stats.intervalSeconds * 1000);
        },
      }
    : stats;
  const accessLog = listenForAccessLog((entry) => stats.request(entry));
  stats.start();
  const caddyRoutes = new CaddyRouteTable({
    adminUrl: config.caddyAdmin,
    publicHost: config.publicHost,
    publicPort: config.publicPort,
    listenHost: config.publicListen || undefined,
    tenantResolver: await tenantDns.start(),
    tls: config.tls,
    api: loopbackAddress(config.api.host, config.api.port),
    accessLog: accessLog.address,
  });
  // Every route goes through DomainRoutes, which adds the app's own domains (kept from store.domains).
  // KILN_ENGINE=swarm: apps are Swarm services, reached through the edge (deploy/swarm-engine.ts).
  const swarm = config.engine.kind === "swarm" ? await SwarmEngine.start({ config: { ...config, engine: config.engine }, runtime, instanceId, nodeId, say }) : null;
  if (swarm && cluster && config.engine.kind === "swarm" && !config.engine.registry) {
    say("swarm: with several Kilns on one database, set KILN_REGISTRY to one registry they all use (this Kiln's own keeps its images in its own data dir)");
  }
  const routes = new DomainRoutes(swarm ? swarm.routesOver(caddyRoutes) : caddyRoutes, await store.domains.all());
  const caddy = new CaddySupervisor({
    adminUrl: config.caddyAdmin,
    dataDir: config.dataDir,
    env: config.childEnv,
    onRestart: () => reconciler?.reloadRoutes(),
    log: (line) => say(`caddy: ${line}`),
  });
  if (config.manageCaddy) await caddy.ensureRunning();

  // Prometheus metrics (src/metrics/): each event counted where it happens, gauges read at scrape time.
  const metrics = createKilnMetrics();
  // Log offload (KILN_LOG_OFFLOAD_*): cold lines move to S3; every reader of the stored log goes
  // through `logs`, which reads them back from there (logs/tiered-logs.ts).
  const logObjects = config.logOffload
    ? new RcloneLogObjects({ target: config.logOffload.target, tempDir: join(config.dataDir, "log-offload"), baseEnv: withOwnerMarker(config.childEnv, nodeId) })
    : null;
  const logs = new TieredLogs({ hot: store.logs, tiers: store.logTiers, objects: logObjects, onError: (err) => say(`log offload: ${err instanceof Error ? err.message : String(err)}`) });
  let logTail: RemoteLogTail | null = null;
  const bus = new LogBus({ store: logs, onLines: metrics.linesPublished, ...(cluster ? { onStored: (key: string, upTo: number) => logTail?.stored(key, upTo), renumberOnConflict: true } : {}) });
  if (cluster) logTail = await RemoteLogTail.start({ db: cluster.db, bus, logs, instance: cluster.owner, onError: (err) => say(`log tail: ${err instanceof Error ? err.message : String(err)}`) });
  // Log retention per stream (KILN_LOG_RETENTION_DAYS / _MB); each sweep says what it removed on the stream.
  const logRetention = new LogRetention({
    logs,
    ...config.logRetention,
    announce: async (key, text) => {
      await bus.open(key);
      bus.publish(key, "system", text);
    },
    onError: (err) => say(`log retention: ${err instanceof Error ? err.message : String(err)}`),
  });
  if (!cluster) logRetention.start(); // several Kilns: on the leader (below)
  const logOffload =
    config.logOffload && logObjects
      ? new LogOffload({
          tiers: store.logTiers,
          objects: logObjects,
          streams: async () => (await store.logs.usage()).map((u) => u.stream),
          afterMs: config.logOffload.afterMs,
          intervalMs: config.logOffload.intervalMs,
          announce: async (key, text) => {
            await bus.open(key);
            bus.publish(key, "system", text);
          },
          onOffloaded: (lines) => metrics.linesOffloaded(lines),
          onError: (err) => say(`log offload: ${err instanceof Error ? err.message : String(err)}`),
        })
      : null;
  if (!cluster) logOffload?.start();
  // Every command Kiln runs starts from config.childEnv (an allow-list), never from Kiln's own
  // environment, plus this instance's marker, so that a Kiln restarted after SIGKILL can kill the
  // commands its predecessor left running (a stuck rclone must not upload after a later release).
  const baseEnv = withOwnerMarker(config.childEnv, nodeId);
  const leftovers = await killLeftoverCommands(nodeId);
  if (leftovers.length) say(`killed ${leftovers.length} command(s) left running by a previous Kiln (pids ${leftovers.join(", ")})`);
  const runtimeImages = new RuntimeImages({ runtime, nodeImage: config.nodeImage, baseEnv });
  const builders = createBuilders({ runtime, baseImage: (req) => runtimeImages.resolve(req), railpack: { buildkitHost: config.buildkitHost, baseEnv } });
  const fetchers = { git: new GitFetcher({ baseEnv }), tarball: new TarballFetcher() };

  // Services.
  // A system line on a deployment's log. Several Kilns: the deployment may have been made on another since this one
  // started, its stream not open here yet: opened first (alone, every stream is open: publish as ever).
  const systemLine = (id: string, text: string): void => {
    const key = deploymentStream(id);
    if (!cluster || bus.isOpen(key)) return void bus.publish(key, "system", text);
    void bus.open(key).then(() => bus.publish(key, "system", text), (err: unknown) => say(`log: ${err instanceof Error ? err.message : String(err)}`));
  };
  let service: DeploymentService | null = null;
  // Several Kilns: jobs are rows under leases; one a dead Kiln held is resumed here (DeploymentService.resume).
  const queue = cluster
    ? await PgJobQueue.start({
        db: cluster.db,
        owner: cluster.owner,
        concurrency: config.buildConcurrency,
        resume: (id, spec, why, signal) => service!.resume(id, spec, why, signal),
        abandon: (id, spec, why) => service!.abandon(id, spec, why),
        log: say,
      })
    : new BuildQueue(config.buildConcurrency);
  let apps: AppConvergence | null = null;
  const watcher = new (cluster ? LeaderRuntimeWatcher : RuntimeWatcher)(
    runtime,
    (id) => bus.sink(deploymentStream(id)),
    (exit) => apps?.noticeExit(exit.deploymentId, exit.containerId),
    store.logs,
    swarm?.logFollow(store.logs),
  );
  if (cluster && watcher instanceof LeaderRuntimeWatcher) {
    watcher.led(cluster.leadership, (id) => ({ ready: bus.isOpen(deploymentStream(id)), opening: bus.open(deploymentStream(id)) }));
    await watcher.relay(cluster.db, (err) => say(`follow relay: ${errorMessage(err)}`));
  }
  const rollout = new Rollout({
    runtime,
    routes,
    watcher,
    instanceId,
    network: config.dockerNetwork,
    limits: config.appLimits,
    readyTimeoutMs: config.readyTimeoutMs,
    pickHostPort: freeLoopbackPort,
    isPortTaken,
  });
  const runner = new BuildRunner({ config, instanceId, runtime, routes, fetchers, builders, rollout: swarm ? swarm.rollout(routes, watcher) : rollout }, store, (id) => bus.sink(deploymentStream(id)), watcher, config.keepReleases, metrics);
  service = new DeploymentService({
    store,
    queue,
    runner,
    watcher,
    runtime,
    routes,
    uploadsDir: join(config.dataDir, "uploads"),
    ...(sharedUploads ? { sharedUploads } : {}),
    ownNetwork: config.dockerNetwork,
    validateGit: (url, ref) => {
      validateGitUrl(url);
      if (ref !== undefined) validateGitRef(ref);
    },
    openLogs: (id) => bus.open(deploymentStream(id)),
    log: (id, text) => systemLine(id, text),
    ...(swarm ? { removeApp: (id: string) => swarm.removeApp(id) } : {}),
    forgetLogs: async (id) => {
      await bus.forget(deploymentStream(id));
      await logs.deleteFor(id);
    },
  });
  for (const d of await store.deployments.list()) await bus.open(deploymentStream(d.id));
  const previews = new PreviewService({ deployments: service, store, log: (id, text) => systemLine(id, text) });
  // Deploy on push: /api/v1/hooks/<id> (and /_kiln/hooks/<id> through Caddy); pull requests go to previews.
  const hooks = new HookService({
    store,
    deployments: service,
    log: (id, text) => systemLine(id, text),
    onPullRequest: (parent, ev, provider) => previews.onPullRequest(parent, ev, provider),
  });

  // Tenant pools. A pools node: the Kilns sharing this pools directory (src/cluster/node-lock.ts). Several
  // Kilns on one host share it to serve each other's claims; members are only handed out on their own node.
  const poolsDir = config.pools.dir;
  const poolsNode = await resolvePoolsNode(poolsDir);
  const slots = new SlotMounts({ slotsRoot: join(poolsDir, "slots"), stagingRoot: join(poolsDir, "slots-staging"), baseEnv, shared: cluster !== null });
  const { registry, refiller, tenants, service: pools } = assemblePools({
    store,
    runtime,
    slots,
    syncer: new RcloneSyncer({ baseEnv }),
    events,
    instanceId,
    node: poolsNode,
    poolsDir,
    workloadsDir: config.pools.workloadsDir,
    workloadEnv: config.workloadEnv,
    defaults: {
      network: config.dockerNetwork,
      memoryBytes: config.appLimits.memoryBytes,
      nanoCpus: config.appLimits.nanoCpus,
      pids: config.appLimits.pids,
      tmpfsSize: config.pools.tmpfsSize,
    },
    readyTimeoutMs: config.pools.readyTimeoutMs,
    concurrency: config.pools.concurrency,
    urls: { publicHost: config.publicHost, publicPort: config.publicPort, tls: config.tls },
    ...(cluster ? { lock: cluster.tenantLock() } : {}),
    logFor: async (workloadId, tenantId) => {
      const key = tenantStream(workloadId, tenantId);
      await bus.open(key);
      return bus.sink(key);
    },
    onClaimed: metrics.claimed,
    say,
  });

  reconciler = new Reconciler({
    store,
    runtime,
    routes,
    watcher,
    buildsDir: join(config.dataDir, "builds"),
    uploadsDir: join(config.dataDir, "uploads"),
    ...(sharedUploads ? { sharedUploads } : {}),
    keepImages: config.keepImages,
    instanceId,
    busy: (id) => queue.busy(id) || !!apps?.busy(id),
    draining: (containerId) => rollout.draining.has(containerId),
    // A Swarm app's tasks are Swarm's to restart.
    converge: (d, listed) => (d.instances.some(isSwarmInstance) ? undefined : apps?.converge(d, listed)),
    log: (id, text) => systemLine(id, text),
    say,
    shared: cluster !== null,
  });
  // Running apps whose container died or vanished are started again (with backoff) from their current build.
  const deployments = service;
  apps = new AppConvergence({
    store,
    runtime,
    routes,
    watcher,
    events,
    instanceId,
    building: (id) => queue.busy(id),
    isPortTaken,
    specFor: async (d, replica, hostPort) => {
      const serving = await deployments.servingRelease(d.id);
      if (!serving || !(await runtime.imageExists(serving.release.image))) return null;
      const { release, env } = serving;
      const spec = appContainerSpec({
        name: d.name,
        deploymentId: d.id,
        buildId: release.buildId,
        releaseId: release.id,
        replica,
        suffix: newId(8),
        image: release.image,
        env,
        port: resolvePort(release.settings, release.buildPort),
        hostPort: hostPort ?? freeLoopbackPort(),
        settings: release.settings,
        limits: config.appLimits,
        network: config.dockerNetwork,
        sharedNetworks: d.networks,
        instanceId,
      });
      return { spec, settings: release.settings };
    },
    readyTimeoutMs: config.readyTimeoutMs,
    fullPass: () => reconciler!.passAfresh({ boot: false, forceRoutes: true }),
    log: (id, text) => systemLine(id, text),
  });
  if (!cluster) {
    apps.start();
    await events.start();
    await pools.start();
    await reconciler.boot();
    reconciler.start(15_000);
    swarm?.startSweeps(() => store.deployments.list(), (id) => queue.busy(id));
    previews.start();
  } else {
    // Several Kilns: the loops that must run once run on the leader (src/cluster/cluster.ts says which and why).
    await events.start();
    await pools.start();
    const leaderApps = apps;
    const nodePools = pools;
    // The pools' upkeep runs on one Kiln of each pools node (members are node-local), not on the cluster's leader.
    await cluster.whileLeadingPoolsNode(poolsNode, {
      start: () => nodePools.lead(),
      stop: () => nodePools.follow(),
    });
    const leaderReconciler = reconciler;
    cluster.whileLeading({
      start: async () => {
        swarm?.startSweeps(() => store.deployments.list(), (id) => queue.busy(id));
        leaderApps.start();
        await leaderReconciler.boot();
        leaderReconciler.start(15_000);
        previews.start();
        logRetention.start();
        logOffload?.start();
      },
      stop: async () => {
        leaderReconciler.stop();
        swarm?.stopSweeps();
        leaderApps.stop();
        previews.stop();
        await logRetention.stop();
        await logOffload?.stop();
      },
    });
    // Builds run on every Kiln: each clears its own disk (the leader's full collection also does the engine's).
    const localGc = setInterval(() => void leaderReconciler.collectLocalGarbage().catch((err) => say(`gc: ${errorMessage(err)}`)), GC_INTERVAL_MS);
    localGc.unref?.();
    clusterStops.push(() => clearInterval(localGc));
    // Where each Kiln answers, and on which pools node: a release or sync of another node's member goes there.
    peers = await Peers.start({ db: cluster.db, owner: cluster.owner, node: poolsNode, apiUrl: config.advertiseUrl, onError: (err) => say(`peers: ${errorMessage(err)}`) });
    // Every Kiln's own Caddy follows the routes and domains in the store (another Kiln may have changed them).
    clusterStops.push(startRouteSync({ store, routes, reconciler: leaderReconciler, everyMs: 3000, say }));
  }

  // Warm the base image in the background so the first build doesn't wait for it.
  void runtimeImages.resolve({ name: "node" }).catch((err) => say(`base image: ${err instanceof Error ? err.message : String(err)}`));

  const health = new HealthCheck({
    probes: {
      docker: (signal) => runtime.ping(signal).then(() => true),
      caddy: () => routes.healthy(),
      tenantResolver: () => resolverAnswers(tenantDns.address),
    },
    explain: (d) => explainDown(d, { dockerSocket: config.dockerSocket, caddyAdmin: config.caddyAdmin, manageCaddy: config.manageCaddy, tenantResolver: tenantDns.address }),
  });
  const domains = new DomainService({
    store,
    deployment: (idOrName) => deployments.get(idOrName),
    routes,
    certs: new CaddyCertificates({ adminUrl: config.caddyAdmin, dataDir: config.dataDir }),
    publicHost: config.publicHost,
    publicPort: config.publicPort,
    apiHost: config.api.host,
    tls: config.tls,
  });
  const app = createHttpApp({
    service,
    domains,
    previews,
    hooks: { hooks, hookUrls: { publicHost: config.publicHost, publicPort: config.publicPort, tls: config.tls } },
    urls: { publicHost: config.publicHost, publicPort: config.publicPort, tls: config.tls },
    dataDir: config.dataDir,
    maxUploadBytes: config.maxUploadBytes,
    maxJsonBytes: config.maxJsonBytes,
    token,
    bus,
    logs,
    logStorage: { logs, offload: logObjects && config.logOffload ? { url: logObjects.url, afterMs: config.logOffload.afterMs } : null },
    pools: { tenants, registry, store, ...(peers ? { forward: async (node: string, req: ForwardedRequest) => forwardToPeers(await peers!.ofNode(node), req) } : {}) },
    tenantStream: async (tenantId, workloadId) => {
      const claims = await tenants.status(tenantId); // validates the id; 404 for an unknown tenant
      if (!claims.some((c) => c.workload === workloadId)) throw notFound(`tenant ${tenantId} has never claimed ${workloadId}`);
      const key = tenantStream(workloadId, tenantId);
      await bus.open(key);
      return key;
    },
    health: () => health.report(),
    metrics,
    stats: statsView,
  });
  const server = Bun.serve({
    hostname: config.api.host,
    port: config.api.port,
    fetch: app.fetch,
    websocket,
    // No server-wide ceiling: Bun's own 413 has no message. Each route caps its body as it streams
    // (http/body-limit.ts, http/upload.ts), Bun reads only as fast as a handler consumes, and a refusal closes the connection.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 120,
  });
  const apiUrl = `http://${config.api.host}:${server.port}`;
  metrics.observe({
    poolMembers: () => store.pools.listMembers(),
    workloads: () => registry.all().map((w) => w.id),
    memberStatuses: memberLifecycle.statuses,
    wsSubscribers: () => bus.subscribers(),
    illegalMoves: {
      build_runner: () => runner.illegalMoves,
      refiller: () => refiller.illegalMoves,
      tenants: () => tenants.illegalMoves,
      pool_service: () => pools.illegalMoves,
      member_health: () => pools.health.illegalMoves,
    },
  });
  const metricsServer = config.metricsAddr ? serveMetrics(metrics.registry, config.metricsAddr) : null;

  return {
    config,
    token,
    tokenGenerated: generated,
    tokenPath,
    apiUrl,
    service,
    bus,
    runtime,
    instanceId,
    reconciler,
    events,
    apps,
    rollout,
    swarm,
    previews,
    metricsUrl: metricsServer?.url ?? null,
    logOffload,
    stats,
    async stop() {
      for (const stopIt of clusterStops) stopIt();
      await peers?.stop(); // no more requests forwarded here
      if (watcher instanceof LeaderRuntimeWatcher) await watcher.stopRelay();
      await cluster?.stop(); // the leader's loops stop first; then the lock goes
      reconciler?.stop();
      previews.stop();
      apps?.stop();
      await events.stop();
      server.stop(true);
      metricsServer?.stop();
      await stats.stop();
      await pools.stop();
      await queue.drain();
      watcher.stopAll();
      await logRetention.stop();
      await logOffload?.stop();
      await bus.close();
      await logTail?.stop();
      await caddy.stop();
      await swarm?.stop();
      accessLog.stop(); // after Caddy: it logs to it until it stops
      await tenantDns.stop();
      await cluster?.close();
      await store.close();
    },
  };
}
