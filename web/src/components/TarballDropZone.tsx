/** Deploy a tarball or a folder: drop it (or pick one), with an optional name; uploads at once. */
import { useRef, useState, type DragEvent } from "react";
import type { Deployment } from "../api.ts";
import { useClient } from "../client-context.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { fromDirectoryInput, fromDroppedEntry, packFolder, type FolderFile } from "../upload/pack-folder.ts";

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

  const folderInput = useRef<HTMLInputElement>(null);

  const send = async (label: string, bytes: () => Promise<Uint8Array>) => {
    setError(undefined);
    setBusy(label);
    try {
      const d = await client.upload(await bytes(), name.trim() || undefined);
      setName("");
      onCreated(d);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
      if (input.current) input.current.value = "";
      if (folderInput.current) folderInput.current.value = "";
    }
  };

  const uploadFolder = (label: string, files: () => Promise<FolderFile[]>) =>
    send(`${label} (packing)`, async () => {
      const list = await files();
      if (list.length === 0) throw new Error(`the folder ${label} is empty`);
      return (await packFolder(list)).bytes;
    });

  const upload = async (file: File | undefined) => {
    if (!file) return;
    if (!looksLikeTarball(file.name)) return setError(new Error(`${file.name} is not a folder, a .tar, a .tgz or a .tar.gz file`));
    await send(file.name, async () => new Uint8Array(await file.arrayBuffer()));
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const entry = e.dataTransfer.items[0]?.webkitGetAsEntry?.();
    if (entry?.isDirectory) return void uploadFolder(entry.name, () => fromDroppedEntry(entry as FileSystemDirectoryEntry));
    void upload(e.dataTransfer.files[0]);
  };

  return (
    <div className="tarball">
      <h3>From a folder or a tarball</h3>
      <label className="field">
        <span>Name (optional)</span>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="generated" pattern="[a-z0-9\-]*" title="lowercase letters, digits and -" />
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
            <strong>Drop a folder, a .tar or a .tgz here</strong> or <u>choose a tarball</u>
          </span>
        )}
      </label>
      <label className="folder-pick">
        <input
          ref={folderInput}
          type="file"
          className="visually-hidden"
          data-testid="folder-input"
          disabled={!!busy}
          {...{ webkitdirectory: "", directory: "" }}
          onChange={(e) => {
            const files = e.target.files;
            if (files?.length) void uploadFolder(files[0]!.webkitRelativePath.split("/")[0] ?? "folder", async () => fromDirectoryInput(files));
          }}
        />
        <u>or choose a folder</u> — .git, node_modules and what .gitignore/.kilnignore list stay out
      </label>
      <ErrorNotice error={error} title="Could not upload" />
    </div>
  );
}
