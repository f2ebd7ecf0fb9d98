import { describe, expect, it, vi } from "vitest";
import { BlockedAddress, blockedRange, checkAddress, type Lookup } from "./address-guard";
import { AttemptTimeout } from "./transport";

describe("blockedRange", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "CGNAT"],
    ["100.127.255.255", "CGNAT"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fc00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a00:1", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:a9fe:a9fe", "link-local"],
    ["::10.0.0.1", "private"],
    ["64:ff9b::192.168.0.1", "private"],
    ["2002:a00:1::1", "private"],
  ])("%s is %s", (address, label) => {
    expect(blockedRange(address)).toMatch(new RegExp(`^${label} \\(`));
  });

  it.each([
    "8.8.8.8",
    "93.184.216.34",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "192.169.0.1",
    "169.255.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
  ])("%s is public", (address) => {
    expect(blockedRange(address)).toBeNull();
  });

  it("treats anything that is not an IP address as blocked", () => {
    expect(blockedRange("example.com")).toBe("not an IP address");
  });
});

describe("checkAddress", () => {
  const never: Lookup = () => Promise.reject(new Error("lookup must not be called"));

  it.each([
    "https://127.0.0.1/",
    "https://0x7f.1/",
    "https://2130706433/",
    "https://017700000001/",
    "https://127.1/",
    "https://[::ffff:7f00:1]/",
    "https://[0:0:0:0:0:0:0:1]/",
    "https://10.0.0.1./",
  ])("refuses %s without resolving anything (URL parsing normalises IPv4 spellings)", async (url) => {
    await expect(checkAddress(url, never, 1_000)).rejects.toBeInstanceOf(BlockedAddress);
  });

  it("returns an IP literal as is, without resolving it", async () => {
    await expect(checkAddress("https://93.184.216.34:8443/hook", never, 1_000)).resolves.toBe(
      "93.184.216.34",
    );
    await expect(checkAddress("https://[2606:4700::1111]/hook", never, 1_000)).resolves.toBe(
      "2606:4700::1111",
    );
  });

  it("resolves a host name once, refuses it when any address is blocked, and returns the first otherwise", async () => {
    const lookup = vi.fn<Lookup>(async (hostname) =>
      hostname === "mixed.test"
        ? [
            { address: "93.184.216.34", family: 4 },
            { address: "10.0.0.1", family: 4 },
          ]
        : [
            { address: "2606:4700::1111", family: 6 },
            { address: "93.184.216.34", family: 4 },
          ],
    );
    await expect(checkAddress("https://mixed.test/", lookup, 1_000)).rejects.toThrow(
      "mixed.test resolves to 10.0.0.1, which is private (10.0.0.0/8)",
    );
    await expect(checkAddress("https://public.test/", lookup, 1_000)).resolves.toBe("2606:4700::1111");
    expect(lookup.mock.calls).toEqual([["mixed.test"], ["public.test"]]);
  });

  it("refuses non-https URLs and answers that are not addresses", async () => {
    await expect(checkAddress("http://93.184.216.34/", never, 1_000)).rejects.toBeInstanceOf(BlockedAddress);
    await expect(checkAddress("not a url", never, 1_000)).rejects.toBeInstanceOf(BlockedAddress);
    const odd: Lookup = async () => [{ address: "example.com", family: 4 }];
    await expect(checkAddress("https://odd.test/", odd, 1_000)).rejects.toBeInstanceOf(BlockedAddress);
    const none: Lookup = async () => [];
    await expect(checkAddress("https://none.test/", none, 1_000)).rejects.toThrow(
      "no address found for none.test",
    );
  });

  it("gives up on a resolver slower than the attempt's timeout", async () => {
    const hanging: Lookup = () => new Promise(() => {});
    await expect(checkAddress("https://slow.test/", hanging, 20)).rejects.toBeInstanceOf(AttemptTimeout);
  });
});
