import { expect, test } from "bun:test";
import { splitDetails } from "./service-logs.ts";

test("a line's details give its task id and leave its text", () => {
  const rest = "com.docker.swarm.node.id=8bjulu37,com.docker.swarm.service.id=1d9ndgoa,com.docker.swarm.task.id=futxsrunlb4b line 1 of two words";
  expect(splitDetails(rest)).toEqual({ task: "futxsrunlb4b", text: "line 1 of two words" });
});

test("the task attribute last or first, an empty text, no task attribute", () => {
  expect(splitDetails("com.docker.swarm.task.id=abc,com.docker.swarm.node.id=n x")).toEqual({ task: "abc", text: "x" });
  expect(splitDetails("com.docker.swarm.task.id=abc")).toEqual({ task: "abc", text: "" });
  expect(splitDetails("com.docker.swarm.node.id=n text")).toBeNull();
});
