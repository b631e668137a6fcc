import { expect, test } from "bun:test";
import { CAP_SYS_ADMIN, effectiveCapabilities, hasCapability } from "./capabilities.ts";

const status = (capEff: string) => `Name:\tbun\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

test("reads CapEff", () => {
  expect(effectiveCapabilities(status("000001fffeffffff"))).toBe(0x1fffeffffffn);
  expect(effectiveCapabilities("Name:\tx\n")).toBeNull();
});

test("CAP_SYS_ADMIN is bit 21", () => {
  expect(hasCapability(status("000001fffeffffff"), CAP_SYS_ADMIN)).toBe(true); // root (this machine)
  expect(hasCapability(status("0000000000200000"), CAP_SYS_ADMIN)).toBe(true);
  expect(hasCapability(status("000001ffffdfffff"), CAP_SYS_ADMIN)).toBe(false); // root, dropped
  expect(hasCapability(status("0000000000000000"), CAP_SYS_ADMIN)).toBe(false); // a user
  expect(hasCapability("no caps here", CAP_SYS_ADMIN)).toBe(false);
});
