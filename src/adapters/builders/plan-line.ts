/**
 * The builder's decision as one line a person reads, in the build log, on the build record and from
 * `kiln plan <folder>`:
 *   detected: Node.js app (pnpm, "packageManager": "pnpm@9.15.9" in package.json) → `corepack enable && pnpm install --frozen-lockfile` → `pnpm run build` → start `node dist/server.js` on port 3000
 * Pure.
 */
import { kindLabel, type AppPlan } from "./plan.ts";

export function planLine(plan: AppPlan): string {
  const what = kindLabel(plan);
  const pm = plan.packageManager ? `${plan.packageManager}${plan.yarnBerry ? " 2+" : ""}${plan.reasons.packageManager ? `, ${plan.reasons.packageManager}` : ""}` : null;
  const steps: string[] = [`detected: ${what}${pm ? ` (${pm})` : ""}`];
  if (plan.installCmd) steps.push(`\`${plan.installCmd}\``);
  if (plan.buildCmd) steps.push(`\`${plan.buildCmd}\``);
  steps.push(plan.kind === "static" ? `serve \`${plan.serve?.dir ?? "."}/\`${plan.serve?.spa ? " with SPA fallback" : ""}` : `start \`${plan.startCmd}\` on port ${plan.port}`);
  return steps.join(" → ");
}
