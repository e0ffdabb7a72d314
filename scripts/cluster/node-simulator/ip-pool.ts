// Pod addresses from a 127.0.0.0/8 block: Linux routes the whole block to the loopback device,
// so each pod gets an address of its own without any network setup. Addresses are not reused
// while the simulator runs, so a new pod never inherits a dead pod's connections.
export class IpPool {
  private next = 0;
  private readonly used = new Set<string>();

  /** `prefix` is the first two octets, e.g. "127.10": pods get 127.10.0.2, 127.10.0.3, … */
  constructor(private readonly prefix = '127.10') {}

  allocate(): string {
    for (;;) {
      const n = this.next++;
      const third = Math.floor(n / 253);
      if (third > 255) throw new Error(`pod address block ${this.prefix}.0.0/16 is exhausted`);
      const ip = `${this.prefix}.${third}.${(n % 253) + 2}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
  }

  /** Marks an address already held by a pod (after a simulator restart). */
  claim(ip: string): boolean {
    if (!ip.startsWith(`${this.prefix}.`) || this.used.has(ip)) return false;
    this.used.add(ip);
    return true;
  }

  release(ip: string): void {
    this.used.delete(ip);
  }
}
