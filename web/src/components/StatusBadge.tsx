/** A status as a coloured pill; in-progress states pulse. */
const TONE: Record<string, string> = {
  running: "ok",
  ready: "ok",
  claimed: "ok",
  succeeded: "ok",
  queued: "pending",
  building: "busy",
  deploying: "busy",
  warming: "busy",
  releasing: "busy",
  draining: "busy",
  failed: "bad",
  crashlooping: "bad",
  release_failed: "bad",
  cancelled: "muted",
  stopped: "muted",
  released: "muted",
};

export function StatusBadge({ status }: { status: string }) {
  const tone = TONE[status] ?? "muted";
  return (
    <span className={`badge badge-${tone}`} data-status={status}>
      <span className="dot" aria-hidden="true" />
      {status.replace("_", " ")}
    </span>
  );
}
