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

export const PreviewUploadQuery = z.object({
  ref: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/, "a ref names the preview: letters, digits, '.', '_', '/' or '-', starting with a letter or digit")
    .openapi({ description: "what the upload is (a branch or a build label); names the preview", example: "feature-login" }),
});
