// IPv4 CIDR arithmetic of the local cluster's pod network: address ↔ number, masking a CIDR to its
// network address, block size and membership, and the pods' gateway.
import { contains, gateway, ipToNumber, numberToIp, parseCidr, size } from '../../../scripts/cluster/network/cidr.js';

test('addresses and numbers round-trip, ends of the range included', () => {
  expect(ipToNumber('0.0.0.0')).toBe(0);
  expect(ipToNumber('10.244.0.1')).toBe(10 * 2 ** 24 + 244 * 2 ** 16 + 1);
  expect(ipToNumber('255.255.255.255')).toBe(2 ** 32 - 1);
  for (const ip of ['0.0.0.0', '10.244.15.255', '127.0.0.1', '192.168.1.254', '255.255.255.255']) {
    expect(numberToIp(ipToNumber(ip))).toBe(ip);
  }
});

test('what is not a dotted IPv4 address is refused', () => {
  for (const bad of ['', '10.244.0', '10.244.0.0.1', '10.244.0.256', '10.244.-1.0', '10.244.x.1', 'localhost', '::1', '10.244.0.1 ']) {
    expect(() => ipToNumber(bad)).toThrow(/not an IPv4 address/);
  }
});

test('a CIDR is masked to its network address', () => {
  expect(parseCidr('10.244.3.7/20')).toEqual({ base: ipToNumber('10.244.0.0'), bits: 20 });
  expect(numberToIp(parseCidr('10.244.31.200/20').base)).toBe('10.244.16.0');
  expect(numberToIp(parseCidr('10.96.200.1/16').base)).toBe('10.96.0.0');
  expect(parseCidr('192.168.1.77/32')).toEqual({ base: ipToNumber('192.168.1.77'), bits: 32 });
  expect(parseCidr('192.168.1.77/0')).toEqual({ base: 0, bits: 0 });
});

test('what is not an IPv4 CIDR is refused', () => {
  for (const bad of ['10.244.0.0', '10.244.0.0/', '10.244.0.0/33', '10.244.0.0/123', '/24', '10.244.0.0/24/1', 'fd00::/64']) {
    expect(() => parseCidr(bad)).toThrow(/not an IPv4 CIDR/);
  }
  expect(() => parseCidr('10.244.0.300/24')).toThrow(/not an IPv4 address/);
});

test('size counts every address of the block, network and broadcast included', () => {
  expect(size(parseCidr('10.244.0.0/24'))).toBe(256);
  expect(size(parseCidr('10.244.0.0/20'))).toBe(4096);
  expect(size(parseCidr('10.0.0.1/32'))).toBe(1);
  expect(size(parseCidr('0.0.0.0/0'))).toBe(2 ** 32);
});

test('contains holds from the network address to the broadcast address and nowhere else', () => {
  const block = parseCidr('10.244.16.0/20');
  expect(contains(block, '10.244.16.0')).toBe(true);
  expect(contains(block, '10.244.23.45')).toBe(true);
  expect(contains(block, '10.244.31.255')).toBe(true);
  expect(contains(block, '10.244.15.255')).toBe(false);
  expect(contains(block, '10.244.32.0')).toBe(false);
  expect(contains(parseCidr('0.0.0.0/0'), '255.255.255.255')).toBe(true);
});

test('the gateway is the first address after the network address, even from an unaligned CIDR', () => {
  expect(gateway(parseCidr('10.244.0.0/24'))).toBe('10.244.0.1');
  expect(gateway(parseCidr('10.244.3.7/20'))).toBe('10.244.0.1');
  expect(gateway(parseCidr('10.244.255.0/24'))).toBe('10.244.255.1');
});
