// Pod addresses from the Node's podCIDR: the gateway (first address) is the bridge's, the rest go
// to pods in turn. An address comes back only after the whole block has been handed out once, so a
// new pod does not inherit the conntrack entries of a pod that just went.
import { isIPv4 } from 'node:net';
import { contains, gateway, ipToNumber, numberToIp, parseCidr, size, type Cidr } from '../network/cidr.js';

export class IpPool {
  private readonly cidr: Cidr;
  private next = 2;
  private readonly used = new Set<string>();

  constructor(readonly podCidr: string) {
    this.cidr = parseCidr(podCidr);
    if (size(this.cidr) < 4) throw new Error(`podCIDR ${podCidr} is too small for pods`);
  }

  /** The address the next allocation tries first (kept across simulator restarts, as host-local IPAM keeps its last_reserved_ip). */
  get nextAddress(): string {
    return numberToIp(this.cidr.base + this.next);
  }

  /** Goes on from where an earlier pool stopped; an address outside the block is ignored. */
  resumeAt(ip: string): void {
    if (!isIPv4(ip) || !contains(this.cidr, ip)) return;
    const offset = ipToNumber(ip) - this.cidr.base;
    if (offset >= 2 && offset < size(this.cidr) - 1) this.next = offset;
  }

  get gateway(): string {
    return gateway(this.cidr);
  }

  /** Prefix length, for the pod's address on its interface. */
  get bits(): number {
    return this.cidr.bits;
  }

  allocate(): string {
    const usable = size(this.cidr) - 3; // network, gateway, broadcast
    for (let tried = 0; tried < usable; tried++) {
      const offset = this.next;
      this.next = this.next + 1 >= size(this.cidr) - 1 ? 2 : this.next + 1;
      const ip = numberToIp(this.cidr.base + offset);
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
    throw new Error(`podCIDR ${this.podCidr} is exhausted: ${this.used.size} pods hold an address`);
  }

  /** Marks an address already held by a pod (after a simulator restart). */
  claim(ip: string): boolean {
    if (!isIPv4(ip) || !contains(this.cidr, ip) || ip === this.gateway || this.used.has(ip)) return false;
    const offset = ipToNumber(ip) - this.cidr.base;
    if (offset === 0 || offset === size(this.cidr) - 1) return false;
    this.used.add(ip);
    return true;
  }

  release(ip: string): void {
    this.used.delete(ip);
  }
}
