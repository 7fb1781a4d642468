import { describe, expect, it } from "vitest";
import { checkSourceUrl } from "../../../src/transfer/source-url";

const refused = (url: string, allow: string[] = []) => {
  const v = checkSourceUrl(url, allow);
  return v.ok ? null : v.reason;
};

describe("WAV source URL policy", () => {
  it("accepts public https URLs when no allowlist is set", () => {
    expect(refused("https://cdn1.suno.ai/abc.wav")).toBeNull();
    expect(refused("https://8.8.8.8/x.wav")).toBeNull();
  });

  it.each([
    ["http://cdn.example.com/x.wav", "plain http"],
    ["ftp://cdn.example.com/x.wav", "scheme"],
    ["file:///etc/passwd", "scheme"],
    ["data:audio/wav;base64,UklGRg==", "scheme"],
    ["javascript:alert(1)", "scheme"],
    ["not a url", "not a valid"],
    ["https://user:pass@cdn.example.com/x.wav", "credentials"],
  ])("refuses %s", (url, why) => {
    expect(refused(url)).toContain(why);
  });

  it.each([
    "https://127.0.0.1/x.wav",
    "https://127.1.2.3/x.wav",
    "https://localhost/x.wav",
    "https://foo.localhost/x.wav",
    "https://0.0.0.0/x.wav",
    "https://10.1.2.3/x.wav",
    "https://172.16.0.1/x.wav",
    "https://172.31.255.255/x.wav",
    "https://192.168.1.10/x.wav",
    "https://100.64.0.1/x.wav",
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.1.1/x.wav",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://224.0.0.1/x.wav",
    "https://[::1]/x.wav",
    "https://[::]/x.wav",
    "https://[fe80::1]/x.wav",
    "https://[fc00::1]/x.wav",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/x.wav",
    "https://[::ffff:169.254.169.254]/x.wav",
    "https://[64:ff9b::a9fe:a9fe]/x.wav",
    "https://[::ffff:0:7f00:1]/x.wav",
    "https://[2002:a9fe:a9fe::1]/x.wav",
    "https://localhost./x.wav",
    "https://metadata.google.internal./computeMetadata/v1/",
    // Alternative spellings the URL parser normalises to internal addresses.
    "https://2130706433/x.wav",
    "https://0x7f.0.0.1/x.wav",
    "https://0177.0.0.1/x.wav",
    "https://127.1/x.wav",
  ])("refuses the internal address in %s", (url) => {
    expect(refused(url)).toMatch(/internal address/);
  });

  it("keeps public neighbours of internal ranges", () => {
    for (const host of ["172.32.0.1", "100.128.0.1", "192.169.0.1", "11.0.0.1", "169.255.0.1"]) {
      expect(refused(`https://${host}/x.wav`)).toBeNull();
    }
  });

  it("with WAV_SOURCE_HOSTS set, only listed hosts pass, with *. wildcards for subdomains", () => {
    const allow = ["cdn.example.com", "*.suno.ai"];
    expect(refused("https://cdn.example.com/x.wav", allow)).toBeNull();
    expect(refused("https://a.b.suno.ai/x.wav", allow)).toBeNull();
    expect(refused("https://suno.ai/x.wav", allow)).toContain("not in WAV_SOURCE_HOSTS");
    expect(refused("https://evilsuno.ai/x.wav", allow)).toContain("not in WAV_SOURCE_HOSTS");
    expect(refused("https://cdn.example.com.evil.net/x.wav", allow)).toContain("not in WAV_SOURCE_HOSTS");
    expect(refused("https://other.example.com/x.wav", allow)).toContain("not in WAV_SOURCE_HOSTS");
  });

  it("a port in an entry must match; plain http only for listed hosts", () => {
    const allow = ["127.0.0.1:8788", "media.example.com"];
    expect(refused("http://127.0.0.1:8788/x.wav", allow)).toBeNull();
    expect(refused("http://127.0.0.1:8789/x.wav", allow)).toContain("not in WAV_SOURCE_HOSTS");
    expect(refused("http://media.example.com/x.wav", allow)).toBeNull();
  });

  it("an internal address passes only through an exact entry, never a wildcard", () => {
    expect(refused("https://10.0.0.5/x.wav", ["10.0.0.5"])).toBeNull();
    expect(refused("https://db.internal/x.wav", ["*.internal"])).toMatch(/internal address/);
    expect(refused("https://db.internal/x.wav", ["db.internal"])).toBeNull();
  });
});
