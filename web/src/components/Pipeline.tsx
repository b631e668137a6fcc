/** The current build's pipeline: source → build → run → healthy → route, each with state and time. */
import type { Build } from "../api.ts";
import { formatDuration } from "../lib/format.ts";

const STEPS = ["source", "build", "run", "healthy", "route"] as const;
type StepState = "done" | "running" | "failed" | "pending" | "skipped";

export function stepStates(build: Build | null): { name: (typeof STEPS)[number]; state: StepState; durationMs: number | null }[] {
  const finished = build ? build.status !== "queued" && build.status !== "running" : false;
  let broken = false;
  return STEPS.map((name) => {
    const s = build?.steps.find((x) => x.name === name);
    let state: StepState;
    if (s?.ok === true) state = "done";
    else if (s?.ok === false) state = "failed";
    else if (s) state = finished ? "failed" : "running";
    else state = broken || (finished && build?.status !== "succeeded") ? "skipped" : "pending";
    if (state === "failed") broken = true;
    return { name, state, durationMs: s?.durationMs ?? null };
  });
}

const ICON: Record<StepState, string> = { done: "✓", running: "◌", failed: "✕", pending: "·", skipped: "–" };

export function Pipeline({ build }: { build: Build | null }) {
  const steps = stepStates(build);
  return (
    <section className="card pipeline-card" aria-labelledby="pipeline-title">
      <h2 id="pipeline-title" className="section-title">
        {build ? `Build #${build.number}` : "Pipeline"}
        {build && <span className="muted"> · {build.builder ?? "detecting builder"} · {build.status} · {formatDuration(build.durationMs)}</span>}
      </h2>
      <ol className="pipeline">
        {steps.map((s) => (
          <li key={s.name} className={`step step-${s.state}`} data-step={s.name} data-state={s.state}>
            <span className="step-icon" aria-hidden="true">
              {ICON[s.state]}
            </span>
            <span className="step-name">{s.name}</span>
            <span className="step-time">{s.state === "running" ? "running…" : s.state === "done" || s.state === "failed" ? formatDuration(s.durationMs) : s.state}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
