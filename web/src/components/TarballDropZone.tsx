/** Deploy a tarball: drop a .tar/.tgz (or pick one), with an optional name; uploads at once. */
import { useRef, useState, type DragEvent } from "react";
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

const ACCEPT = ".tar,.tgz,.tar.gz,application/x-tar,application/gzip";

export function looksLikeTarball(name: string): boolean {
  return /\.(tar|tgz|tar\.gz)$/i.test(name);
}

export function TarballDropZone({ onCreated }: { onCreated: (d: Deployment) => void }) {
  const client = useClient();
  const input = useRef<HTMLInputElement>(null);
  const [name, setName] = useState("");
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const upload = async (file: File | undefined) => {
    if (!file) return;
    setError(undefined);
    if (!looksLikeTarball(file.name)) return setError(new Error(`${file.name} is not a .tar, .tgz or .tar.gz file`));
    setBusy(file.name);
    try {
      const d = await client.upload(new Uint8Array(await file.arrayBuffer()), name.trim() || undefined);
      setName("");
      onCreated(d);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      if (input.current) input.current.value = "";
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void upload(e.dataTransfer.files[0]);
  };

  return (
    <div className="tarball">
      <h3>From a tarball</h3>
      <label className="field">
        <span>Name (optional)</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="generated" pattern="[a-z0-9-]*" title="lowercase letters, digits and -" />
      </label>
      <label
        className={`dropzone${over ? " over" : ""}${busy ? " busy" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <input ref={input} type="file" accept={ACCEPT} className="visually-hidden" onChange={(e) => void upload(e.target.files?.[0])} disabled={!!busy} />
        {busy ? (
          <span>Uploading {busy}…</span>
        ) : (
          <span>
            <strong>Drop a .tar or .tgz here</strong> or <u>choose a file</u>
          </span>
        )}
      </label>
      <ErrorNotice error={error} title="Could not upload" />
    </div>
  );
}
