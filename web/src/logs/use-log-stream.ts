/**
 * A deployment's log over the WebSocket, into a LogBuffer: replays everything (since=1), follows
 * the tail, and reconnects from the last seq it has after a drop (the client itself resumes after a
 * server's cut). Lines arrive a frame at a time (protocol v2); re-renders at most once a frame.
 */
import { useEffect, useRef, useState } from "react";
import type { KilnClient } from "../../../src/client/api-client.ts";
import { LogBuffer } from "./log-buffer.ts";

export type StreamState = "connecting" | "live" | "reconnecting";

export function useLogStream(client: KilnClient, deploymentId: string): { buffer: LogBuffer; version: number; state: StreamState } {
  const [buffer, setBuffer] = useState(() => new LogBuffer());
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>("connecting");
  const frame = useRef(0);

  useEffect(() => {
    const buf = new LogBuffer();
    setBuffer(buf);
    setVersion(0);
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let close: () => void = () => {};
    const bump = () => {
      if (frame.current) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        setVersion((v) => v + 1);
      });
    };
    const connect = (attempt: number) => {
      setState(attempt === 0 ? "connecting" : "reconnecting");
      const stream = client.streamLogs(deploymentId, {
        since: buf.lastSeq + 1,
        follow: true,
        onLines: (lines) => {
          let added = false;
          for (const line of lines) added = buf.push(line) || added;
          if (added) bump();
        },
        onReplayed: () => !stopped && setState("live"),
      });
      close = stream.close;
      const again = () => {
        if (stopped) return;
        setState("reconnecting");
        retry = setTimeout(() => connect(attempt + 1), Math.min(5000, 500 * 2 ** Math.min(attempt, 4)));
      };
      stream.done.then(again, again);
    };
    connect(0);
    return () => {
      stopped = true;
      clearTimeout(retry);
      cancelAnimationFrame(frame.current);
      frame.current = 0;
      close();
    };
  }, [client, deploymentId]);

  return { buffer, version, state };
}
