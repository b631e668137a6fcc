/** The previews API's schemas (POST/GET /deployments/{id}/previews). */
import { z } from "@hono/zod-openapi";
import { DeploymentView } from "./schemas.ts";

export const CreatePreview = z
  .object({
    ref: z.string().min(1).max(255).openapi({ description: "a branch, tag or full commit sha of the app's repository", example: "feature/login" }),
  })
  .strict()
  .openapi("CreatePreview");

export const PreviewList = z.object({ previews: z.array(DeploymentView) }).openapi("PreviewList");
