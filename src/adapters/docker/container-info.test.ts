import { describe, expect, test } from "bun:test";
import { containerInfo, labelFilters, publishedAddress } from "./container-info.ts";

describe("container info", () => {
  test("label filters", () => {
    expect(labelFilters({ "kiln.managed": "true", "kiln.app": "web" })).toBe('{"label":["kiln.managed=true","kiln.app=web"]}');
  });

  test("published address is the 127.0.0.1 binding", () => {
    expect(
      publishedAddress({ Ports: { "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: "49153" }], "9000/tcp": null } }),
    ).toBe("127.0.0.1:49153");
    expect(publishedAddress({ Ports: { "3000/tcp": null } })).toBeNull();
    expect(publishedAddress({ Ports: null })).toBeNull();
    expect(publishedAddress(undefined)).toBeNull();
  });

  test("container info from inspect JSON", () => {
    const info = containerInfo({
      Id: "abc",
      Name: "/kiln-web-1",
      RestartCount: 2,
      Config: { Image: "kiln/app-web:b1", Labels: { "kiln.managed": "true" } },
      State: { Status: "running", Running: true, ExitCode: 0, Health: { Status: "healthy" } },
      NetworkSettings: { Ports: { "3000/tcp": [{ HostIp: "127.0.0.1", HostPort: "40001" }] } },
    });
    expect(info).toEqual({
      id: "abc",
      name: "kiln-web-1",
      image: "kiln/app-web:b1",
      labels: { "kiln.managed": "true" },
      running: true,
      status: "running",
      exitCode: 0,
      restartCount: 2,
      published: "127.0.0.1:40001",
      health: "healthy",
      paused: false,
    });
  });
});
